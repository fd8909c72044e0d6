package dev.smartvm.kubernetes;

import java.util.List;

/**
 * What one sandbox's objects are made from: the boot request's figures, the VM's network
 * request, where it goes and who owns it.
 *
 * @param owner the name of the owning SmartVm's Lease
 */
record SandboxRequest(String vmId, String namespace, String owner, String runtimeClass, String image, int cpus,
        int memoryMib, boolean network, List<String> allow, List<String> deny, List<String> publish) {
    SandboxRequest {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        publish = List.copyOf(publish);
    }
}

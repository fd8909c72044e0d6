package dev.smartvm.kubernetes;

import java.util.List;
import java.util.Map;

/**
 * What one sandbox's objects are made from: the boot request's figures, the VM's network
 * request, where it goes and who owns it.
 *
 * @param owner the name of the owning SmartVm's Lease
 * @param env the VM's environment (every exec's), the container's too
 * @param workdir the VM's working directory (every exec's), the container's too; null for the image's
 */
record SandboxRequest(String vmId, String namespace, String owner, String runtimeClass, String image, int cpus,
        int memoryMib, Map<String, String> env, String workdir, boolean network, List<String> allow, List<String> deny,
        List<String> publish) {
    SandboxRequest {
        env = Map.copyOf(env);
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        publish = List.copyOf(publish);
    }
}

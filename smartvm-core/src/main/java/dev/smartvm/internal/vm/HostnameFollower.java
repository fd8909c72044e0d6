package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.HostProcess;
import dev.smartvm.internal.net.EgressPolicy;
import dev.smartvm.internal.net.HostNetwork;
import dev.smartvm.internal.net.HostnamePins;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Keeps the hostnames of a running VM's egress rules resolved for a VM no process holds (one
 * left running by {@code smartvm create}). It writes nothing to the VM's record: a VMM that
 * died is recorded, and its network given back, by the next command that finds it, so a
 * follower never races a {@code smartvm stop} or {@code rm}.
 */
public final class HostnameFollower {
    private HostnameFollower() {
    }

    /** Blocks until the VM stops, is removed or leaves the bridge, its VMM is gone, or {@code closed}. */
    public static void follow(VmContext context, String idOrName, BooleanSupplier closed) throws InterruptedException {
        VmStore store = context.store();
        VmRecord r = store.find(idOrName).orElseThrow(() -> new SmartVmException(ErrorCode.VM_NOT_FOUND,
                "no VM named '" + idOrName + "'"));
        HostNetwork.Attachment attached = r.network();
        if (attached == null || !r.state().isActive()) {
            return;
        }
        EgressPolicy policy = EgressPolicy.parse(r.spec().network().allow(), r.spec().network().deny(), context.resolver());
        if (!policy.hasHostnames() || !context.network().repin(r.id(), policy)) {
            return;
        }
        String id = r.id();
        try (HostnamePins pins = context.pinHostnames(id, policy)) {
            while (!closed.getAsBoolean()) {
                Thread.sleep(1000);
                Optional<VmRecord> now = store.find(id);
                if (now.isEmpty() || !attached.equals(now.get().network())) {
                    return; // removed, stopped or started again (with a follower of its own)
                }
                if (!now.get().spec().network().equals(r.spec().network())) {
                    return; // its rules were replaced: whoever replaced them follows the new ones
                }
                if (!HostProcess.isRunning(now.get().pid(), now.get().vmmStartedAt())) {
                    return; // died or being stopped: whoever stops it, or the next command's reaper, records it
                }
            }
        }
    }
}

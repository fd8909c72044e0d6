package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmState;
import dev.smartvm.internal.net.EgressPolicy;
import dev.smartvm.internal.net.HostnamePins;
import dev.smartvm.spi.Capability;
import java.util.List;

/**
 * A running VM's egress rules replaced: checked and resolved first (a bad rule or a name that
 * does not resolve changes nothing), applied in one nft transaction, then recorded (a restart
 * keeps them), and their hostnames kept resolved by this handle from then on.
 */
public final class VmEgress {
    private VmEgress() {
    }

    /**
     * @throws SmartVmException INVALID_ARGUMENT for a bad rule; INVALID_STATE for a VM that is
     *     not running or paused, or has no bridge network; UNSUPPORTED on an engine that runs its
     *     own network
     */
    public static void update(VmContext context, VmLifecycle life, List<String> allow, List<String> deny) {
        EgressPolicy.check(allow, deny);
        VmRecord r = life.current();
        if (context.backend(r.spec().backend()).has(Capability.OWNS_IMAGES_AND_NETWORK)) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "the " + r.spec().backend() + " backend runs its own network:"
                    + " egress rules of its VMs are given when they start; the qemu and firecracker backends change them at run time");
        }
        if (r.state() != VmState.RUNNING && r.state() != VmState.PAUSED) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot change the egress rules of VM '" + r.name() + "': it is "
                    + r.state().name().toLowerCase() + "; its rules change while it runs (give them when it starts)");
        }
        if (r.network() == null) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "VM '" + r.name() + "' has no bridge network ("
                    + (r.networkMode() == null ? "none" : r.networkMode().name().toLowerCase() + " mode")
                    + "): egress rules need one; start it with --net in bridge mode (as root)");
        }
        EgressPolicy policy = EgressPolicy.parse(allow, deny, context.resolver());
        context.network().replaceEgress(r.network(), policy);
        HostnamePins pins = policy.hasHostnames() ? context.pinHostnames(r.id(), policy) : null;
        NetworkSpec was = r.spec().network();
        life.egressChanged(new NetworkSpec(true, allow, deny, was.publish(), was.mode()), pins);
    }
}

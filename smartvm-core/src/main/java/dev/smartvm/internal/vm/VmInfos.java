package dev.smartvm.internal.vm;

import dev.smartvm.NetworkSpec;
import dev.smartvm.VmInfo;
import dev.smartvm.VmNetwork;
import dev.smartvm.VmState;
import dev.smartvm.internal.net.HostNetwork;
import dev.smartvm.internal.net.NetworkManager;
import dev.smartvm.spi.Capability;

/** What is known of a VM, from its record: its network as the mode decided at its last boot, and its address while it runs. */
public final class VmInfos {
    private VmInfos() {
    }

    public static VmInfo info(VmContext context, VmRecord r) {
        return new VmInfo(r.id(), r.name(), r.state(), r.spec().backend(), r.acceleration(), r.pid(), r.spec(), r.createdAt(),
                context.store().dir(r.id()), r.stopReason(), of(context, r), VmLimits.expiresAt(context, r).orElse(null));
    }

    static VmNetwork of(VmContext context, VmRecord r) {
        if (!r.spec().network().enabled()) {
            return null;
        }
        if (context.backend(r.spec().backend()).has(Capability.OWNS_IMAGES_AND_NETWORK)) {
            return new VmNetwork(null, null, null, null); // the engine's own network: SmartVM knows no more of it
        }
        NetworkSpec.Mode mode = r.networkMode() != null ? r.networkMode() : r.spec().network().mode(); // AUTO: not booted yet
        HostNetwork.Attachment a = r.network();
        if (a != null) {
            return new VmNetwork(mode, a.ip(), a.mac(), a.tap());
        }
        boolean up = r.state().isActive() && r.state() != VmState.STARTING;
        return mode == NetworkSpec.Mode.USER && up
                ? new VmNetwork(mode, VmBooter.USER_MODE_ADDRESS, NetworkManager.generateMac(r.id(), "eth0"), null)
                : new VmNetwork(mode, null, null, null);
    }
}

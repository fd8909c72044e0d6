package dev.smartvm;

import dev.smartvm.backend.Backend;
import dev.smartvm.image.ImageStore;
import dev.smartvm.net.EgressPolicy;
import dev.smartvm.net.HostNetwork;
import dev.smartvm.net.HostnamePins;
import dev.smartvm.net.NameResolver;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/** What a {@link MicroVm} needs from the {@link SmartVm} that made or found it. */
record VmContext(VmStore store, Map<String, Backend> backends, ImageStore images,
        UnaryOperator<Acceleration> accelerations, Consumer<MicroVm> released, HostNetwork network,
        NameResolver resolver, Admission admission) {
    Backend backend(String name) {
        Backend b = backends.get(name);
        if (b == null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "no backend named '" + name + "'; known: "
                    + new java.util.TreeSet<>(backends.keySet()));
        }
        return b;
    }

    /** The acceleration a VM of {@code backend} runs with: KVM-only engines never fall back to TCG. */
    Acceleration acceleration(Backend backend, Acceleration requested) {
        if (!backend.needsKvm()) {
            return accelerations.apply(requested);
        }
        if (requested == Acceleration.TCG) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the " + backend.name()
                    + " backend runs on KVM only; use --accel auto or kvm, or the qemu backend for TCG");
        }
        return Acceleration.KVM;
    }

    /** Starts keeping the hostnames of a VM's policy resolved, refilling its nft sets while it holds the bridge. */
    HostnamePins pinHostnames(String vmId, EgressPolicy policy) {
        return HostnamePins.start(vmId, policy, resolver, p -> network.repin(vmId, p));
    }
}

package dev.smartvm.internal.vm;

import dev.smartvm.Acceleration;
import dev.smartvm.ErrorCode;
import dev.smartvm.NameResolver;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.image.ImageStore;
import dev.smartvm.internal.net.EgressPolicy;
import dev.smartvm.internal.net.HostNetwork;
import dev.smartvm.internal.net.HostnamePins;
import dev.smartvm.SnapshotInfo;
import dev.smartvm.TemplateInfo;
import dev.smartvm.internal.snapshot.SavedStore;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.Capability;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/** What a VM's lifecycle needs from the SmartVm that made or found it. */
public record VmContext(VmStore store, Map<String, Backend> backends, ImageStore images,
        UnaryOperator<Acceleration> accelerations, Consumer<String> released, HostNetwork network,
        NameResolver resolver, Admission admission, SavedStore<SnapshotInfo> snapshots,
        SavedStore<TemplateInfo> templates) {
    public Backend backend(String name) {
        Backend b = backends.get(name);
        if (b == null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "no backend named '" + name + "'; known: "
                    + new java.util.TreeSet<>(backends.keySet()));
        }
        return b;
    }

    /**
     * The backend of {@code name}, if it can do {@code capability}; else UNSUPPORTED, saying
     * which engines can ("the smolvm backend cannot save a VM's state; the firecracker and qemu
     * backends can").
     *
     * @param what what the capability does, as the message says it ("save a VM's state")
     */
    public Backend backendThatCan(String name, Capability capability, String what) {
        Backend b = backend(name);
        if (b.has(capability)) {
            return b;
        }
        java.util.List<String> can = backends.values().stream().filter(e -> e.has(capability)).map(Backend::name).sorted()
                .toList();
        String others = can.isEmpty() ? "no backend here can"
                : can.size() == 1 ? "the " + can.get(0) + " backend can"
                : "the " + String.join(", ", can.subList(0, can.size() - 1)) + " and " + can.get(can.size() - 1) + " backends can";
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "the " + b.name() + " backend cannot " + what + "; " + others);
    }

    /** The acceleration a VM of {@code backend} runs with: KVM-only engines never fall back to TCG. */
    public Acceleration acceleration(Backend backend, Acceleration requested) {
        if (!backend.has(Capability.KVM_ONLY)) {
            return accelerations.apply(requested);
        }
        if (requested == Acceleration.TCG) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the " + backend.name()
                    + " backend runs on KVM only; use --accel auto or kvm, or the qemu backend for TCG");
        }
        return Acceleration.KVM;
    }

    /** Starts keeping the hostnames of a VM's policy resolved, refilling its nft sets while it holds the bridge. */
    public HostnamePins pinHostnames(String vmId, EgressPolicy policy) {
        return HostnamePins.start(vmId, policy, resolver, p -> network.repin(vmId, p));
    }
}

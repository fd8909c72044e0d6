package dev.smartvm.spi;

import dev.smartvm.Acceleration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Everything a backend needs to start one VMM: what every engine takes, plus the options of one
 * engine as extensions (records the engine defines, made by its {@link Backend#options}).
 *
 * @param vmId the VM id, used to label host resources
 * @param vmDir the VM's state directory (sockets, logs, pid file live here)
 * @param image what to boot; null for an engine that {@link Capability#OWNS_IMAGES_AND_NETWORK}
 * @param cpus virtual CPUs
 * @param memoryMib guest memory
 * @param acceleration KVM or TCG, already resolved (never AUTO)
 * @param nic the network interface, or null for none
 * @param engine for an engine that {@link Capability#OWNS_IMAGES_AND_NETWORK}, what the user
 *     asked for ({@code image} and {@code nic} are null then); else null
 * @param extensions engine-specific options, at most one of each type
 */
public record BootRequest(String vmId, Path vmDir, BootImage image, int cpus, int memoryMib, Acceleration acceleration,
        NicSpec nic, EngineSpec engine, List<Object> extensions) {
    public BootRequest {
        if (acceleration == Acceleration.AUTO) {
            throw new IllegalArgumentException("resolve AUTO before launching");
        }
        extensions = extensions == null ? List.of() : List.copyOf(extensions);
        if (extensions.stream().map(Object::getClass).distinct().count() != extensions.size()) {
            throw new IllegalArgumentException("two extensions of one type: " + extensions);
        }
    }

    public BootRequest(String vmId, Path vmDir, BootImage image, int cpus, int memoryMib, Acceleration acceleration) {
        this(vmId, vmDir, image, cpus, memoryMib, acceleration, null, null, List.of());
    }

    /** This request with the network interface {@code nic}. */
    public BootRequest withNic(NicSpec nic) {
        return new BootRequest(vmId, vmDir, image, cpus, memoryMib, acceleration, nic, engine, extensions);
    }

    /** This request with one more extension. */
    public BootRequest with(Object extension) {
        List<Object> more = new ArrayList<>(extensions);
        more.add(extension);
        return new BootRequest(vmId, vmDir, image, cpus, memoryMib, acceleration, nic, engine, more);
    }

    /** The extension of type {@code type}, if the request has one. */
    public <T> Optional<T> extension(Class<T> type) {
        return extensions.stream().filter(type::isInstance).map(type::cast).findFirst();
    }

    /** The kernel arguments the network adds ("" without one). */
    public String nicKernelArgs() {
        return nic == null ? "" : " " + nic.kernelArgs();
    }
}

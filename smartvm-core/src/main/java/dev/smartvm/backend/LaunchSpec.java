package dev.smartvm.backend;

import dev.smartvm.Acceleration;
import dev.smartvm.image.ImageBundle;
import java.nio.file.Path;

/**
 * Everything a backend needs to start one VMM.
 *
 * @param vmId the VM id, used to label host resources
 * @param vmDir the VM's state directory (sockets, logs, pid file live here)
 * @param image what to boot
 * @param cpus virtual CPUs
 * @param memoryMib guest memory
 * @param acceleration KVM or TCG, already resolved (never AUTO)
 * @param firecrackerConfig extra objects in Firecracker's config-file format, or null
 * @param nic the network interface, or null for none
 * @param engine for a backend that pulls its own images and makes its own network (smolvm;
 *     {@code image} and {@code nic} are null then), what the user asked for; else null
 */
public record LaunchSpec(String vmId, Path vmDir, ImageBundle image, int cpus, int memoryMib, Acceleration acceleration,
        Path firecrackerConfig, NicSpec nic, EngineSpec engine) {
    public LaunchSpec(String vmId, Path vmDir, ImageBundle image, int cpus, int memoryMib, Acceleration acceleration) {
        this(vmId, vmDir, image, cpus, memoryMib, acceleration, null, null, null);
    }

    public LaunchSpec(String vmId, Path vmDir, ImageBundle image, int cpus, int memoryMib, Acceleration acceleration,
            Path firecrackerConfig, NicSpec nic) {
        this(vmId, vmDir, image, cpus, memoryMib, acceleration, firecrackerConfig, nic, null);
    }

    /** The kernel arguments the network adds ("" without one). */
    public String nicKernelArgs() {
        return nic == null ? "" : " " + nic.kernelArgs();
    }

    public LaunchSpec {
        if (acceleration == Acceleration.AUTO) {
            throw new IllegalArgumentException("resolve AUTO before launching");
        }
    }
}

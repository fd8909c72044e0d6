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
 */
public record LaunchSpec(String vmId, Path vmDir, ImageBundle image, int cpus, int memoryMib, Acceleration acceleration,
        Path firecrackerConfig) {
    public LaunchSpec(String vmId, Path vmDir, ImageBundle image, int cpus, int memoryMib, Acceleration acceleration) {
        this(vmId, vmDir, image, cpus, memoryMib, acceleration, null);
    }

    public LaunchSpec {
        if (acceleration == Acceleration.AUTO) {
            throw new IllegalArgumentException("resolve AUTO before launching");
        }
    }
}

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
 */
public record LaunchSpec(String vmId, Path vmDir, ImageBundle image, int cpus, int memoryMib, Acceleration acceleration) {
    public LaunchSpec {
        if (acceleration == Acceleration.AUTO) {
            throw new IllegalArgumentException("resolve AUTO before launching");
        }
    }
}

package dev.smartvm.spi;

import java.nio.file.Path;

/**
 * A boot request's extension: start the VMM from the state saved in {@code snapshotDir} by
 * {@link VmmProcess#saveState} (memory, devices, its writable disk) instead of booting the
 * kernel. The request's image, CPUs and memory are the saved VM's.
 */
public record RestoreState(Path snapshotDir) {
}

package dev.smartvm.spi;

import java.nio.file.Path;
import java.time.Instant;

/**
 * What identifies a VMM started earlier.
 *
 * @param vmDir its state directory
 * @param pid its process id
 * @param startedAt the process start time, to tell it from a later process that reused the pid
 */
public record AttachSpec(Path vmDir, long pid, Instant startedAt) {
}

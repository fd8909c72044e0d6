package dev.smartvm.spi;

/**
 * A boot request's extension, for an engine that forks by itself ({@link Capability#FORK}
 * without {@link Capability#TEMPLATES}): start the VM as a fork of the running VM
 * {@code sourceVmId}, continuing its state, instead of booting an image. Such an engine keeps the
 * source frozen from then on (smolvm does, while the forks exist): SmartVM records it as paused.
 *
 * @param sourceVmId the id of the VM forked
 */
public record ForkOf(String sourceVmId) {
}

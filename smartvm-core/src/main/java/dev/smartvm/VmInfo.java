package dev.smartvm;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A snapshot of what is known about a VM.
 *
 * @param id the VM id (also the name of its state directory)
 * @param name its name
 * @param state where it is in its life
 * @param backend the engine
 * @param acceleration KVM or TCG once started; AUTO before
 * @param pid the VMM process id, or -1 when none runs
 * @param spec what it was created with
 * @param createdAt when it was created
 * @param stateDir its directory under $SMARTVM_HOME/vms
 * @param stopReason why it last stopped, or null
 * @param network how it is connected, or null without a network
 * @param expiresAt when its lifetime ends (its TTL), while it runs or is paused; null for never
 */
public record VmInfo(
        String id, String name, VmState state, String backend, Acceleration acceleration, long pid,
        VmSpec spec, Instant createdAt, Path stateDir, String stopReason, VmNetwork network, Instant expiresAt) {
}

package dev.smartvm;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A saved VM ({@link MicroVm#snapshot}): its memory, devices and disk as they were, from which
 * {@link SmartVm#restore} starts new VMs.
 *
 * @param name its name, unique in its home
 * @param vm the name of the VM it was taken of
 * @param backend the engine that saved it, and only restores it
 * @param engineVersion that engine's version: another version refuses it
 * @param acceleration what the VM ran on (KVM or TCG): a restore runs on the same
 * @param spec the VM's spec (image, CPUs, memory...): a restored VM has it too
 * @param createdAt when it was saved
 * @param sizeBytes what it takes on disk
 * @param directory where it is ({@code $SMARTVM_HOME/snapshots/<name>})
 */
public record SnapshotInfo(String name, String vm, String backend, String engineVersion, Acceleration acceleration,
        VmSpec spec, Instant createdAt, long sizeBytes, Path directory) {
}

package dev.smartvm;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * A template ({@link SmartVm#createTemplate}): a VM booted, prepared and saved with its memory
 * in a file of its own, from which clones start ({@link VmSpec.Builder#template}) in tens of
 * milliseconds, sharing the memory none of them writes.
 *
 * @param name its name, unique in its home
 * @param backend the engine that made it, and only clones it
 * @param engineVersion that engine's version: another version refuses it
 * @param acceleration what it ran on (KVM or TCG): clones run on the same
 * @param spec the spec it was booted with: its clones have its image, CPUs and memory
 * @param prepare the shell commands that prepared it, in order
 * @param createdAt when it was saved
 * @param sizeBytes what it takes on disk (its memory file is sparse: the pages the guest touched)
 * @param directory where it is ({@code $SMARTVM_HOME/templates/<name>})
 * @param forkedFrom for the template a {@link MicroVm#fork} made, the VM it was forked from
 *     (such a template goes with its last child); null for a prepared one
 */
public record TemplateInfo(String name, String backend, String engineVersion, Acceleration acceleration, VmSpec spec,
        List<String> prepare, Instant createdAt, long sizeBytes, Path directory, String forkedFrom) {
    public TemplateInfo {
        prepare = prepare == null ? List.of() : List.copyOf(prepare);
    }
}

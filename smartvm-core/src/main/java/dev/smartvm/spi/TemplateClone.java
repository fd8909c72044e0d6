package dev.smartvm.spi;

import java.nio.file.Path;

/**
 * A boot request's extension: start the VM where the template in {@code templateDir} was saved
 * ({@link VmmProcess#saveTemplate}), not by booting its kernel. The template's memory file is
 * mapped copy-on-write (clones share what none of them wrote; the file is never written), its
 * device state is loaded, and the VM's writable disk is an overlay over the template's. The
 * request's image, CPUs and memory are the template's.
 *
 * @param memoryFile the template's memory file
 */
public record TemplateClone(Path templateDir, Path memoryFile) {
}

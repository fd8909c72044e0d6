package dev.smartvm.spi;

import java.nio.file.Path;

/**
 * A boot request's extension: the VM's memory lives in {@code file} (made or grown to the VM's
 * memory size), mapped shared, so that every write of the guest lands in it. Such a VM can be
 * saved as a template ({@link VmmProcess#saveTemplate}): its memory is the file itself.
 */
public record TemplateMemory(Path file) {
}

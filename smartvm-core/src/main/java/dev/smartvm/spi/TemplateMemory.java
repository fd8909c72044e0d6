package dev.smartvm.spi;

import java.nio.file.Path;

/**
 * A boot request's extension: the VM is to be saved as a template ({@link VmmProcess#saveTemplate})
 * whose memory is {@code file}. An engine that can map guest memory from a file (QEMU) runs the
 * guest in it, shared, so that every write lands in it and saving writes no memory; another
 * (Firecracker) writes the file when it saves.
 */
public record TemplateMemory(Path file) {
}

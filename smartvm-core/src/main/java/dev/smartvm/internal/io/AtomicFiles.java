package dev.smartvm.internal.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;

/** Writes that readers never see half done: a temp file in the same directory, then a rename. */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    public static void write(Path file, byte[] content) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        replace(file, content);
    }

    /**
     * As {@link #write}, into a directory that must already exist: when it is gone (another
     * process deleted it) this throws {@link java.nio.file.NoSuchFileException} and recreates nothing.
     */
    public static void replace(Path file, byte[] content) throws IOException {
        replace(file, content, new FileAttribute<?>[0]);
    }

    /** As {@link #replace(Path, byte[])}, the file made with {@code attributes} (its mode) before it takes its name. */
    public static void replace(Path file, byte[] content, FileAttribute<?>... attributes) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp", attributes);
        try {
            Files.write(tmp, content);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}

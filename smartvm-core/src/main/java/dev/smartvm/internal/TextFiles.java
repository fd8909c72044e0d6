package dev.smartvm.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Small reads of text files that may be absent (logs of a VM that never started). */
public final class TextFiles {
    private TextFiles() {
    }

    /** The last {@code lines} lines (bytes read as ISO-8859-1, so any console output decodes), or none. */
    public static List<String> tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return all.subList(Math.max(0, all.size() - lines), all.size());
        } catch (IOException e) {
            return List.of();
        }
    }
}

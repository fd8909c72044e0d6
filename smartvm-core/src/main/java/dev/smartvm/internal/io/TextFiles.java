package dev.smartvm.internal.io;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Small reads of text files that may be absent (logs of a VM that never started). */
public final class TextFiles {
    /** A tail never reads more than this from the end of a file, however large the file. */
    static final int MAX_TAIL_BYTES = 256 * 1024;

    private TextFiles() {
    }

    /**
     * The last {@code lines} lines (bytes read as ISO-8859-1, so any console output decodes), or
     * none. It reads at most {@value #MAX_TAIL_BYTES} bytes from the end: a tail costs the tail,
     * not the file (a guest can make its console log gigabytes long).
     */
    public static List<String> tail(Path file, int lines) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long length = f.length();
            int n = (int) Math.min(length, MAX_TAIL_BYTES);
            byte[] bytes = new byte[n];
            f.seek(length - n);
            f.readFully(bytes);
            String text = new String(bytes, StandardCharsets.ISO_8859_1);
            List<String> all = new ArrayList<>(List.of(text.split("\r?\n", -1)));
            if (!all.isEmpty() && all.get(all.size() - 1).isEmpty()) {
                all.remove(all.size() - 1); // the file ends with a newline
            }
            if (n < length && all.size() > 1) {
                all.remove(0); // cut: the first line read is only the end of one (kept if it is all there is)
            }
            return List.copyOf(all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return List.of();
        }
    }
}

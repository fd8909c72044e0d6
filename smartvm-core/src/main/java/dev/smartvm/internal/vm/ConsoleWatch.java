package dev.smartvm.internal.vm;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A VM's serial console log: its last lines, and whether a guest kernel panic showed up since the last look. */
public final class ConsoleWatch {
    public static final String PANIC = "Kernel panic - not syncing";

    private final Path log;
    private long offset;
    private String carry = "";

    public ConsoleWatch(Path log) {
        this.log = log;
    }

    /** True once the console showed a kernel panic. */
    public boolean sawPanic() {
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long length = f.length();
            if (length < offset) {
                offset = 0; // rotated (or restarted): read the new file from its start
                carry = "";
            }
            if (length == offset) {
                return false;
            }
            byte[] fresh = new byte[(int) Math.min(length - offset, 1 << 20)];
            f.seek(offset);
            f.readFully(fresh);
            offset += fresh.length;
            String text = carry + new String(fresh, StandardCharsets.ISO_8859_1);
            carry = text.substring(Math.max(0, text.length() - PANIC.length()));
            return text.contains(PANIC);
        } catch (IOException e) {
            return false;
        }
    }
}

package dev.smartvm.internal.host;

import dev.smartvm.internal.io.TextFiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A VM's serial console log, read for what the guest said as it went down: a kernel panic, or
 * the agent powering the VM off. The one place that knows those lines.
 */
public final class ConsoleWatch {
    public static final String PANIC = "Kernel panic - not syncing";
    private static final int TAIL = 200;

    private final Path log;
    private long offset;
    private String carry = "";

    public ConsoleWatch(Path log) {
        this.log = log;
    }

    /**
     * The last console line that says why the guest went down (a panic, the agent powering off,
     * Ctrl-Alt-Del), as "the guest stopped: LINE".
     */
    public static Optional<String> guestStopReason(Path log) {
        return TextFiles.tail(log, TAIL).stream()
                .filter(l -> l.contains("Kernel panic") || l.contains("smartvm-agent:") && (l.contains("powering off")
                        || l.contains("Ctrl-Alt-Del")))
                .findFirst()
                .map(l -> "the guest stopped: " + l.strip());
    }

    /** True once the console showed a kernel panic since the last look. */
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

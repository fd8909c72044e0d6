package dev.smartvm.cli;

import dev.smartvm.DownloadListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Shows downloads on stderr: a bar redrawn in place (bytes, rate, time left) when stderr is a
 * terminal, else one line when a download starts and one when it ends.
 */
final class ProgressBar implements DownloadListener {
    private final PrintWriter err;
    private final boolean terminal;
    private long startNanos;

    ProgressBar(PrintWriter err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    /** Whether this process's stderr is a terminal (Linux: what fd 2 points at). */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    @Override
    public synchronized void progress(String name, long done, long total, boolean finished) {
        long now = System.nanoTime();
        if (done == 0 && !finished) {
            startNanos = now;
            if (!terminal) {
                err.println("downloading " + name + (total >= 0 ? " (" + bytes(total) + ")" : ""));
                err.flush();
                return;
            }
        }
        double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
        double rate = done / seconds;
        if (finished) {
            err.println((terminal ? "\r\033[K" : "") + "downloaded " + name + ": " + bytes(done) + " in "
                    + String.format(Locale.ROOT, "%.1f", seconds) + " s (" + bytes((long) rate) + "/s)");
        } else if (terminal) {
            err.print("\r\033[K" + line(name, done, total, rate));
        }
        err.flush();
    }

    static String line(String name, long done, long total, double rate) {
        StringBuilder b = new StringBuilder(name).append(' ');
        if (total > 0) {
            int width = 24;
            int filled = (int) Math.min(width, done * width / total);
            b.append('[').append("#".repeat(filled)).append(" ".repeat(width - filled)).append("] ");
            b.append(bytes(done)).append(" / ").append(bytes(total));
        } else {
            b.append(bytes(done));
        }
        b.append("  ").append(bytes((long) rate)).append("/s");
        if (total > 0 && rate > 0) {
            long left = (long) ((total - done) / rate);
            b.append("  ETA ").append(left / 60).append(':').append(String.format(Locale.ROOT, "%02d", left % 60));
        }
        return b.toString();
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        double v = n;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}

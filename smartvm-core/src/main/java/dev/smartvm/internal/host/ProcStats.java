package dev.smartvm.internal.host;

import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** What the kernel says a host process, a file and a network device use (procfs, sysfs). */
public final class ProcStats {
    /** procfs counts CPU time in USER_HZ ticks, 100 a second on every Linux ABI. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    private ProcStats() {
    }

    /**
     * CPU time (user and system) of the threads {@code tids} of process {@code pid}, or of the whole
     * process when {@code tids} is empty; -1 when the process is gone.
     */
    public static long cpuNanos(long pid, List<Long> tids) {
        if (tids.isEmpty()) {
            return ticks(Path.of("/proc", Long.toString(pid), "stat"));
        }
        long sum = 0;
        for (long tid : tids) {
            long t = ticks(Path.of("/proc", Long.toString(pid), "task", Long.toString(tid), "stat"));
            if (t < 0) {
                return -1;
            }
            sum += t;
        }
        return sum;
    }

    /** utime + stime of a stat file, in nanoseconds; -1 when unreadable. */
    static long ticks(Path statFile) {
        String text = read(statFile);
        if (text == null) {
            return -1;
        }
        return parseCpuNanos(text);
    }

    /** utime + stime of one {@code /proc/.../stat} line (fields 14 and 15; the name in parentheses may hold spaces). */
    static long parseCpuNanos(String statLine) {
        String[] f = statLine.substring(statLine.lastIndexOf(')') + 2).trim().split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * NANOS_PER_TICK;
    }

    /** Resident and proportional set sizes of a process in bytes ({@code smaps_rollup}); {-1, -1} when gone. */
    public static long[] rssAndPss(long pid) {
        String text = read(Path.of("/proc", Long.toString(pid), "smaps_rollup"));
        return text == null ? new long[] {-1, -1} : new long[] {kib(text, "Rss"), kib(text, "Pss")};
    }

    /** A {@code Name:  N kB} field in bytes; -1 when absent. */
    static long kib(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + ":")) {
                String[] parts = line.substring(name.length() + 1).trim().split("\\s+");
                return Long.parseLong(parts[0]) * 1024;
            }
        }
        return -1;
    }

    /**
     * The bytes a network device received and sent ({rx, tx}, as the host sees them: a TAP's rx
     * is what its guest sent); {-1, -1} when there is no such device.
     */
    public static long[] deviceBytes(String device) {
        Path dir = Path.of("/sys/class/net", device, "statistics");
        String rx = read(dir.resolve("rx_bytes"));
        String tx = read(dir.resolve("tx_bytes"));
        if (rx == null || tx == null) {
            return new long[] {-1, -1};
        }
        return new long[] {Long.parseLong(rx.trim()), Long.parseLong(tx.trim())};
    }

    /** The disk blocks a (sparse) file takes, in bytes; -1 when it is gone. Java sees only a file's length. */
    public static long allocatedBytes(Path file, CommandRunner runner) {
        CommandResult r = runner.run(List.of("stat", "--format=%b %B", file.toString()), null, Duration.ofSeconds(10));
        if (r.exitCode() != 0) {
            return -1;
        }
        String[] f = r.stdout().trim().split(" ");
        return Long.parseLong(f[0]) * Long.parseLong(f[1]);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return null;
        }
    }
}

package dev.smartvm.internal.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Liveness of a host process that may not be our child. A zombie counts as dead: on hosts whose
 * PID 1 does not reap orphans, an exited VMM stays a zombie forever.
 */
public final class HostProcess {
    private HostProcess() {
    }

    public static boolean isRunning(long pid, Instant startedAt) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) {
            return false;
        }
        if (startedAt != null) {
            Optional<Instant> start = h.get().info().startInstant();
            if (start.isPresent() && Duration.between(start.get(), startedAt).abs().toMillis() > 1000) {
                return false;
            }
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    public static Optional<Instant> startTime(long pid) {
        return ProcessHandle.of(pid).flatMap(h -> h.info().startInstant());
    }

    /** Sends SIGKILL when the process is still the one we started. */
    public static void kill(long pid, Instant startedAt) {
        if (isRunning(pid, startedAt)) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }
}

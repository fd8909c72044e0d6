package dev.smartvm.internal.host;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * A VMM process: our child when this process started it, otherwise a pid and start time found
 * on disk (a reused pid is never mistaken for it).
 *
 * @param child the {@link Process} when we started it, else null
 */
public record VmmPid(long pid, Instant startedAt, Process child) {
    public boolean isAlive() {
        return child != null ? child.isAlive() : HostProcess.isRunning(pid, startedAt);
    }

    /** Waits up to {@code timeout} for the process to exit; true when it did. */
    public boolean awaitExit(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (child != null) {
                return child.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
            }
            while (isAlive()) {
                if (System.nanoTime() >= deadline) {
                    return false;
                }
                Thread.sleep(20);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for pid " + pid + " to exit", e);
        }
    }

    /** Waits {@code grace} for the process to exit by itself, then kills it and waits for that. */
    public void killAfter(Duration grace) {
        if (!awaitExit(grace)) {
            if (child != null) {
                child.destroyForcibly();
            } else {
                HostProcess.kill(pid, startedAt);
            }
            awaitExit(Duration.ofSeconds(10));
        }
    }

    /** The exit code of a child that exited, as text for messages; "" when unknown. */
    public String exitCodeText() {
        return child != null && !child.isAlive() ? " with code " + child.exitValue() : "";
    }
}

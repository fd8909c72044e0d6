package dev.smartvm;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A finished command with everything it wrote. */
public record ExecResult(ExitStatus status, byte[] stdoutBytes, byte[] stderrBytes, Duration duration) {
    public ExecResult {
        stdoutBytes = stdoutBytes.clone();
        stderrBytes = stderrBytes.clone();
    }

    public int exitCode() {
        return status.code();
    }

    @Override
    public byte[] stdoutBytes() {
        return stdoutBytes.clone();
    }

    @Override
    public byte[] stderrBytes() {
        return stderrBytes.clone();
    }

    /** Stdout decoded as UTF-8. */
    public String stdout() {
        return new String(stdoutBytes, StandardCharsets.UTF_8);
    }

    /** Stderr decoded as UTF-8. */
    public String stderr() {
        return new String(stderrBytes, StandardCharsets.UTF_8);
    }
}

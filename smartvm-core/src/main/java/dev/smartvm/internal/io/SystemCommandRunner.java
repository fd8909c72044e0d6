package dev.smartvm.internal.io;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs programs with ProcessBuilder, draining stdout and stderr concurrently. */
final class SystemCommandRunner implements CommandRunner {
    static final SystemCommandRunner INSTANCE = new SystemCommandRunner(Set.of());
    private final Set<String> unset;

    private SystemCommandRunner(Set<String> unset) {
        this.unset = Set.copyOf(unset);
    }

    @Override
    public CommandRunner without(Set<String> names) {
        Set<String> all = new java.util.HashSet<>(unset);
        all.addAll(names);
        return new SystemCommandRunner(all);
    }

    @Override
    public CommandResult run(List<String> argv, Path workDir, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().keySet().removeAll(unset);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "cannot run " + argv.get(0) + ": " + e.getMessage(), e);
        }
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                throw new SmartVmException(ErrorCode.TIMEOUT, String.join(" ", argv) + " did not finish in " + timeout);
            }
            return new CommandResult(argv, p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while running " + argv.get(0), e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
    }
}

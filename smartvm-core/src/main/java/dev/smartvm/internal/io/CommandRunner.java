package dev.smartvm.internal.io;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Runs a host program to completion. Injectable so that argv can be tested without running it. */
@FunctionalInterface
public interface CommandRunner {
    CommandResult run(List<String> argv, Path workDir, Duration timeout);

    static CommandRunner system() {
        return SystemCommandRunner.INSTANCE;
    }
}

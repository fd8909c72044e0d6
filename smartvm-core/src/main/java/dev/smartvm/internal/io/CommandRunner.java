package dev.smartvm.internal.io;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/** Runs a host program to completion. Injectable so that argv can be tested without running it. */
@FunctionalInterface
public interface CommandRunner {
    CommandResult run(List<String> argv, Path workDir, Duration timeout);

    /** This runner, its programs started without the variables {@code names} (a runner that starts none ignores it). */
    default CommandRunner without(Set<String> names) {
        return this;
    }

    static CommandRunner system() {
        return SystemCommandRunner.INSTANCE;
    }
}

package dev.smartvm.internal.host;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Finds the programs SmartVM runs: named by an environment variable, or on the PATH. */
public final class Executables {
    private Executables() {
    }

    /** {@code name} in the first directory of $PATH that has it as an executable file. */
    public static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        for (String dir : (path == null || path.isBlank() ? "/usr/bin:/bin" : path).split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Optional.of(Path.of(dir, name));
            }
        }
        return Optional.empty();
    }

    /**
     * The program ${@code envVar} names (which must then be executable), else {@code name} on the
     * PATH, else empty.
     *
     * @throws SmartVmException HOST_DEPENDENCY_MISSING when the variable names no executable file
     */
    public static Optional<Path> configuredOrOnPath(String envVar, String name) {
        String configured = System.getenv(envVar);
        if (configured != null && !configured.isBlank()) {
            Path p = Path.of(configured);
            if (!Files.isExecutable(p)) {
                throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "$" + envVar + " names " + p
                        + ", which is not an executable file");
            }
            return Optional.of(p);
        }
        return onPath(name);
    }
}

package dev.smartvm.internal.firecracker;

import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.internal.host.Executables;
import dev.smartvm.internal.host.HostArch;
import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Where the firecracker and jailer binaries are: configured, on the PATH, or a release fetched into a cache. */
public final class FirecrackerBinaries {
    private static final Pattern VERSION = Pattern.compile("Firecracker v(\\S+)");

    private FirecrackerBinaries() {
    }

    /**
     * $SMARTVM_FIRECRACKER (and $SMARTVM_JAILER), else {@code firecracker} on the PATH, else the
     * release $SMARTVM_FIRECRACKER_VERSION (default {@value FirecrackerRelease#DEFAULT_VERSION})
     * fetched from $SMARTVM_FIRECRACKER_RELEASES (default GitHub) into {@code cacheDir}.
     */
    public static FirecrackerRelease.Binaries locate(Path cacheDir) {
        Map<String, String> env = System.getenv();
        Optional<Path> installed = Executables.configuredOrOnPath("SMARTVM_FIRECRACKER", "firecracker");
        if (installed.isPresent()) {
            Path fc = installed.get();
            String jailer = env.get("SMARTVM_JAILER");
            return new FirecrackerRelease.Binaries(fc, jailer == null || jailer.isBlank() || !isConfigured(env)
                    ? fc.resolveSibling("jailer") : Path.of(jailer));
        }
        String version = env.getOrDefault("SMARTVM_FIRECRACKER_VERSION", FirecrackerRelease.DEFAULT_VERSION);
        String base = env.get("SMARTVM_FIRECRACKER_RELEASES");
        return new FirecrackerRelease(base == null || base.isBlank() ? FirecrackerRelease.GITHUB : URI.create(base), cacheDir)
                .fetch(FirecrackerVersion.parse(version), HostArch.name());
    }

    private static boolean isConfigured(Map<String, String> env) {
        String fc = env.get("SMARTVM_FIRECRACKER");
        return fc != null && !fc.isBlank();
    }

    /**
     * What {@code binary --version} says, its first line ("Firecracker v1.16.1"): the engine
     * version a snapshot records.
     *
     * @throws SmartVmException HOST_DEPENDENCY_MISSING when it cannot be run or says nothing
     */
    static String versionLine(Path binary) {
        CommandResult r = CommandRunner.system().run(List.of(binary.toString(), "--version"), null, Duration.ofSeconds(30));
        String line = (r.stdout() + r.stderr()).lines().findFirst().orElse("").strip();
        if (r.exitCode() != 0 || line.isEmpty()) {
            throw new SmartVmException(dev.smartvm.ErrorCode.HOST_DEPENDENCY_MISSING, binary + " --version exited with "
                    + r.exitCode() + (line.isEmpty() ? "" : ": " + line));
        }
        return line;
    }

    /**
     * The version of the firecracker that {@link #locate} would find without downloading
     * ($SMARTVM_FIRECRACKER or the PATH), else the release SmartVM fetches.
     */
    public static FirecrackerVersion installedVersion() {
        try {
            Optional<Path> binary = Executables.configuredOrOnPath("SMARTVM_FIRECRACKER", "firecracker");
            if (binary.isPresent()) {
                CommandResult r = CommandRunner.system().run(List.of(binary.get().toString(), "--version"), null,
                        Duration.ofSeconds(10));
                Matcher m = VERSION.matcher(r.stdout() + r.stderr());
                if (r.exitCode() == 0 && m.find()) {
                    return FirecrackerVersion.parse(m.group(1));
                }
            }
        } catch (SmartVmException e) {
            // no usable binary: the release SmartVM fetches
        }
        return FirecrackerVersion.parse(System.getenv().getOrDefault("SMARTVM_FIRECRACKER_VERSION", FirecrackerRelease.DEFAULT_VERSION));
    }
}

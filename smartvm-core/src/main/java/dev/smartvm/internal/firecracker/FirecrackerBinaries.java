package dev.smartvm.internal.firecracker;

import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.internal.host.Executables;
import dev.smartvm.internal.host.HostArch;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
     * The version of the firecracker that {@link #locate} would find without downloading
     * ($SMARTVM_FIRECRACKER or the PATH), else the release SmartVM fetches.
     */
    public static FirecrackerVersion installedVersion() {
        Optional<Path> binary;
        try {
            binary = Executables.configuredOrOnPath("SMARTVM_FIRECRACKER", "firecracker");
        } catch (dev.smartvm.SmartVmException e) {
            binary = Optional.empty();
        }
        if (binary.isPresent()) {
            try {
                Process p = new ProcessBuilder(binary.get().toString(), "--version").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                Matcher m = VERSION.matcher(out);
                if (p.waitFor() == 0 && m.find()) {
                    return FirecrackerVersion.parse(m.group(1));
                }
            } catch (IOException e) {
                // fall through to the default
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return FirecrackerVersion.parse(System.getenv().getOrDefault("SMARTVM_FIRECRACKER_VERSION", FirecrackerRelease.DEFAULT_VERSION));
    }
}

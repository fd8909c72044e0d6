package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Fetches Debian packages with {@code apt-get download} and unpacks them with
 * {@code dpkg-deb -x}: nothing but the package registry, and no root needed.
 */
final class DebianPackages {
    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    private final CommandRunner runner;

    DebianPackages(CommandRunner runner) {
        this.runner = runner;
    }

    /** The candidate version and Depends of a package from the apt lists, if apt knows it. */
    Optional<PackageInfo> info(String name) {
        CommandResult r = runner.run(List.of("apt-cache", "show", "--no-all-versions", name), null, TIMEOUT);
        if (r.exitCode() != 0 || r.stdout().isBlank()) {
            return Optional.empty();
        }
        String version = field(r.stdout(), "Version");
        String depends = field(r.stdout(), "Depends");
        return version == null ? Optional.empty() : Optional.of(new PackageInfo(name, version, depends == null ? "" : depends));
    }

    /** The real kernel image package behind a meta package such as linux-image-cloud-amd64. */
    PackageInfo resolveKernel(String metaPackage) {
        PackageInfo meta = info(metaPackage).orElseThrow(() -> missing(metaPackage));
        for (String dep : meta.depends().split(",")) {
            String name = dep.strip().split("[ (|]")[0];
            if (name.startsWith("linux-image-") && !name.equals(metaPackage)) {
                return info(name).orElseThrow(() -> missing(name));
            }
        }
        throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED,
                metaPackage + " depends on no linux-image package; its Depends: " + meta.depends());
    }

    /** Downloads {@code pkg} into {@code dir} and unpacks it into {@code dest}. */
    void fetchAndUnpack(PackageInfo pkg, Path dir, Path dest) {
        runner.run(List.of("apt-get", "download", "-q", pkg.name() + "=" + pkg.version()), dir, TIMEOUT)
                .orThrow(ErrorCode.IMAGE_BUILD_FAILED);
        Path deb;
        try (Stream<Path> files = Files.list(dir)) {
            deb = files.filter(p -> p.getFileName().toString().startsWith(pkg.name() + "_")
                    && p.getFileName().toString().endsWith(".deb")).findFirst()
                    .orElseThrow(() -> new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED,
                            "apt-get download left no .deb for " + pkg.name() + " in " + dir));
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "cannot list " + dir, e);
        }
        runner.run(List.of("dpkg-deb", "-x", deb.toString(), dest.toString()), null, TIMEOUT)
                .orThrow(ErrorCode.IMAGE_BUILD_FAILED);
    }

    static String field(String control, String name) {
        for (String line : control.split("\n")) {
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1).strip();
            }
        }
        return null;
    }

    private static SmartVmException missing(String name) {
        return new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "apt knows no package " + name
                + "; run 'apt-get update' (as root) so the package lists are present");
    }

    record PackageInfo(String name, String version, String depends) {
    }
}

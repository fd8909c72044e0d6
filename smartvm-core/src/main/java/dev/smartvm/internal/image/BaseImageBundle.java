package dev.smartvm.internal.image;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * One cached base image: a directory holding a kernel, a root filesystem and this record as
 * {@code manifest.json}.
 *
 * @param preset how it was obtained ({@code hosted}, ...)
 * @param versions component versions as the source names them (kernel, rootfs...)
 * @param rootfsType the root file system's type, e.g. ext4
 * @param readOnly whether the root file system is meant to be mounted read-only
 * @param source where it came from (the manifest's path or URL)
 * @param checksums sha256 of each file, by file name
 * @param stamps size and modification time of each file when it was last verified, by file name:
 *     while a file keeps its stamp it is not hashed again
 */
public record BaseImageBundle(String preset, String arch, Map<String, String> versions, String bundleId, Path bundleDir,
        Path kernelPath, Path rootfsPath, String rootfsType, boolean readOnly, String bootArgs, String source,
        Map<String, String> checksums, Instant createdAt, Instant lastAccessedAt, Map<String, String> stamps) {
    public static final String FILE = "manifest.json";

    public BaseImageBundle {
        versions = versions == null ? Map.of() : Map.copyOf(versions);
        checksums = checksums == null ? Map.of() : Map.copyOf(checksums);
        stamps = stamps == null ? Map.of() : Map.copyOf(stamps);
    }

    BaseImageBundle accessedAt(Instant when) {
        return new BaseImageBundle(preset, arch, versions, bundleId, bundleDir, kernelPath, rootfsPath, rootfsType, readOnly,
                bootArgs, source, checksums, createdAt, when, stamps);
    }

    BaseImageBundle withStamps(Map<String, String> newStamps) {
        return new BaseImageBundle(preset, arch, versions, bundleId, bundleDir, kernelPath, rootfsPath, rootfsType, readOnly,
                bootArgs, source, checksums, createdAt, lastAccessedAt, newStamps);
    }
}

package dev.smartvm.internal.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.internal.io.Downloads;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.LockFile;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Firecracker's release binaries, fetched once and cached: the tarball
 * {@code firecracker-vX.Y.Z-ARCH.tgz} is checked against the {@code .sha256.txt} published next
 * to it, and the binaries inside against the release's {@code SHA256SUMS}. The cache directory
 * {@code vX.Y.Z-ARCH/} appears whole or not at all (built aside, then moved), under a lock so
 * that processes fetching the same release wait for each other.
 */
public final class FirecrackerRelease {
    public static final URI GITHUB = URI.create("https://github.com/firecracker-microvm/firecracker/releases/download/");
    /** The release SmartVM is tested against (its API spec is in the contract tests). */
    public static final String DEFAULT_VERSION = "1.16.1";

    private final URI base;
    private final Path cacheDir;

    public FirecrackerRelease(URI base, Path cacheDir) {
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        this.cacheDir = cacheDir;
    }

    /** The firecracker and jailer programs of one release. */
    public record Binaries(Path firecracker, Path jailer) {
    }

    /** The cached binaries of {@code version}, downloading and verifying them first if needed. */
    @SuppressWarnings("try") // the lock is held for the block
    public Binaries fetch(FirecrackerVersion version, String arch) {
        String tag = "v" + version;
        Path dir = cacheDir.resolve(tag + "-" + arch);
        Binaries binaries = new Binaries(dir.resolve("firecracker"), dir.resolve("jailer"));
        if (Files.isExecutable(binaries.firecracker())) {
            return binaries;
        }
        try {
            Files.createDirectories(cacheDir);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot create " + cacheDir + ": " + e.getMessage(), e);
        }
        try (LockFile lock = LockFile.acquire(cacheDir.resolve(".lock"))) {
            if (Files.isExecutable(binaries.firecracker())) {
                return binaries;
            }
            Path work = Files.createTempDirectory(cacheDir, ".fetch-");
            try {
                download(tag, arch, work);
                Files.move(work.resolve("out"), dir, StandardCopyOption.ATOMIC_MOVE);
                return binaries;
            } finally {
                FileTrees.deleteQuietly(work);
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot install Firecracker " + tag + ": " + e.getMessage(), e);
        }
    }

    private void download(String tag, String arch, Path work) throws IOException {
        String name = "firecracker-" + tag + "-" + arch + ".tgz";
        URI tgzUri = base.resolve(tag + "/" + name);
        Path tgz = get(tgzUri, work.resolve(name));
        Path sumFile = get(URI.create(tgzUri + ".sha256.txt"), work.resolve(name + ".sha256.txt"));
        String expected = Files.readString(sumFile, StandardCharsets.US_ASCII).strip().split("\\s+")[0];
        String actual = Hashing.sha256(tgz);
        if (!actual.equalsIgnoreCase(expected)) {
            throw new SmartVmException(ErrorCode.CHECKSUM_MISMATCH, name + " has sha256 " + actual + " but the release says "
                    + expected + "; the download is corrupt or was tampered with (nothing was installed)");
        }
        String prefix = "release-" + tag + "-" + arch + "/";
        Map<String, Path> extracted = new HashMap<>();
        Path out = Files.createDirectories(work.resolve("unpacked"));
        try (InputStream in = Files.newInputStream(tgz);
                TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String entry = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
                if (!e.isFile() || !entry.startsWith(prefix) || entry.substring(prefix.length()).contains("/")) {
                    continue;
                }
                String file = entry.substring(prefix.length());
                if (file.isEmpty() || file.startsWith(".")) {
                    continue;
                }
                Path target = out.resolve(file);
                Files.copy(tar, target);
                extracted.put(file, target);
            }
        }
        Path sums = extracted.get("SHA256SUMS");
        if (sums == null) {
            throw new SmartVmException(ErrorCode.CHECKSUM_MISMATCH, name + " holds no " + prefix + "SHA256SUMS to check its binaries against");
        }
        Map<String, String> listed = new HashMap<>();
        for (String line : Files.readAllLines(sums, StandardCharsets.US_ASCII)) {
            String[] parts = line.strip().split("\\s+\\*?");
            if (parts.length == 2) {
                listed.put(parts[1], parts[0]);
            }
        }
        Path result = Files.createDirectories(work.resolve("out"));
        for (String program : new String[] {"firecracker", "jailer"}) {
            String file = program + "-" + tag + "-" + arch;
            Path p = extracted.get(file);
            if (p == null) {
                throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, name + " has no " + prefix + file);
            }
            String sum = listed.get(file);
            String got = Hashing.sha256(p);
            if (sum == null || !sum.equalsIgnoreCase(got)) {
                throw new SmartVmException(ErrorCode.CHECKSUM_MISMATCH, file + " has sha256 " + got
                        + (sum == null ? " and SHA256SUMS does not list it" : " but SHA256SUMS says " + sum));
            }
            Path target = result.resolve(program);
            Files.move(p, target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private static Path get(URI uri, Path target) {
        return Downloads.get(uri, target, " (set SMARTVM_FIRECRACKER to a firecracker binary to use one you have)");
    }

}

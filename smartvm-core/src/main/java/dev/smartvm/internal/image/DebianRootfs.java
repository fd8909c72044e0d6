package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.Images;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.LockFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Debian root filesystems made by mmdebstrap ({@code minbase} plus the packages asked for,
 * python3 by default), as ext4, cached in {@code debian-<suite>-<key>/} of the images directory.
 * They boot on the default kernel and agent, which switch into them.
 */
public final class DebianRootfs {
    public static final String DEFAULT_SUITE = Images.DEFAULT_DEBIAN_SUITE;
    public static final String DEFAULT_MIRROR = Images.DEFAULT_DEBIAN_MIRROR;
    public static final List<String> DEFAULT_PACKAGES = Images.DEFAULT_DEBIAN_PACKAGES;
    private static final Path MMDEBSTRAP = Path.of("/usr/bin/mmdebstrap");
    private static final Pattern SUITE = Pattern.compile("[a-z][a-z0-9-]{1,30}");
    private static final Pattern PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]{0,62}");

    private final Path imagesDir;
    private final CommandRunner runner;
    private final Consumer<String> progress;

    public DebianRootfs(Path imagesDir, CommandRunner runner, Consumer<String> progress) {
        this.imagesDir = imagesDir;
        this.runner = runner;
        this.progress = progress;
    }

    /** What a build was asked for, recorded beside its root filesystem. */
    public record Build(String suite, List<String> packages, String mirror, Path rootDisk, Instant builtAt) {
    }

    /**
     * The root filesystem of {@code suite} with {@code packages}, built first when it is not
     * cached (or {@code rebuild} is set). Bad names are refused before anything runs.
     */
    @SuppressWarnings("try") // the lock is held for the block
    public Build ensure(String suite, List<String> packages, String mirror, boolean rebuild) {
        if (!SUITE.matcher(suite).matches()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a Debian suite is a name such as bookworm; found '" + suite + "'");
        }
        List<String> sorted = new ArrayList<>(new java.util.TreeSet<>(packages));
        for (String p : sorted) {
            if (!PACKAGE.matcher(p).matches()) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "'" + p + "' is not a Debian package name");
            }
        }
        if (!mirror.startsWith("http://") && !mirror.startsWith("https://") && !mirror.startsWith("file:/")) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a mirror is an http(s) or file: URL; found '" + mirror + "'");
        }
        String key = Hashing.sha256(String.join("\n", suite, String.join(",", sorted), mirror).getBytes(StandardCharsets.UTF_8))
                .substring(0, 12);
        Path dir = imagesDir.resolve("debian-" + suite + "-" + key);
        Path record = dir.resolve("debian.json");
        if (!rebuild && Files.isRegularFile(record)) {
            return Json.read(record, Build.class);
        }
        if (!Files.isExecutable(MMDEBSTRAP)) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING,
                    "building Debian images needs mmdebstrap: apt-get install mmdebstrap");
        }
        try {
            Files.createDirectories(imagesDir);
            try (LockFile lock = LockFile.acquire(imagesDir.resolve(".debian-" + key + ".lock"))) {
                if (!rebuild && Files.isRegularFile(record)) {
                    return Json.read(record, Build.class);
                }
                return build(suite, sorted, mirror, dir);
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write in " + imagesDir + ": " + e.getMessage(), e);
        }
    }

    private Build build(String suite, List<String> packages, String mirror, Path dir) throws IOException {
        Path tmp = Files.createTempDirectory(imagesDir, ".debian-");
        try {
            long t0 = System.nanoTime();
            progress.accept("building Debian " + suite + " with " + String.join(", ", packages) + " (mmdebstrap; a minute or more)");
            Path tree = tmp.resolve("tree");
            List<String> argv = new ArrayList<>(List.of(MMDEBSTRAP.toString(), "--quiet", "--variant=minbase"));
            if (!packages.isEmpty()) {
                argv.add("--include=" + String.join(",", packages));
            }
            argv.addAll(List.of(suite, tree.toString(), mirror));
            runner.run(argv, null, Duration.ofMinutes(30)).orThrow(ErrorCode.IMAGE_BUILD_FAILED);
            Path rootDisk = Ext4Image.make(tree, tmp.resolve("root.ext4"), runner);
            FileTrees.delete(tree);
            Build build = new Build(suite, packages, mirror, dir.resolve("root.ext4"), Instant.now());
            Json.write(tmp.resolve("debian.json"), build);
            if (Files.exists(dir)) {
                FileTrees.delete(dir); // a rebuild replaces the old one
            }
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            progress.accept(String.format("built Debian %s in %.0f s (a %d MiB disk)", suite, (System.nanoTime() - t0) / 1e9,
                    Files.size(dir.resolve("root.ext4")) >> 20));
            return build;
        } finally {
            FileTrees.deleteQuietly(tmp);
        }
    }

    /** The build recorded in {@code dir}, if it holds one. */
    static java.util.Optional<Build> load(Path dir) {
        Path record = dir.resolve("debian.json");
        if (!Files.isRegularFile(record)) {
            return java.util.Optional.empty();
        }
        Build b = Json.read(record, Build.class);
        return java.util.Optional.of(new Build(b.suite(), b.packages(), b.mirror(), dir.resolve("root.ext4"), b.builtAt()));
    }
}

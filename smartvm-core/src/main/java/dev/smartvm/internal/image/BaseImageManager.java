package dev.smartvm.internal.image;

import dev.smartvm.DownloadListener;
import dev.smartvm.ErrorCode;
import dev.smartvm.Images;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.Downloads;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.LockFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A cache of base images (kernel + root filesystem bundles) with a least-recently-used limit.
 * A bundle appears whole or not at all: it is fetched and verified in a temporary directory and
 * then moved into place, under a lock per bundle so that processes fetching the same image
 * wait for each other instead of corrupting it.
 */
@SuppressWarnings("try") // locks are held for their blocks
public final class BaseImageManager {
    public static final int DEFAULT_MAX_STORED = Images.DEFAULT_MAX_BASE_IMAGES;
    public static final String HOSTED = "hosted";
    /** Firecracker's CI images: the newest dated build ({@code latest}) or release line ({@code lts}). */
    public static final List<String> CI_PRESETS = List.of("lts", "latest");

    private final Path cacheDir;
    private final int maxStoredBaseImages;
    private final String arch;
    private final Consumer<String> warnings;
    private final Clock clock;
    private final DownloadListener downloads;
    private final java.net.URI ciBucket;
    private final CommandRunner runner;

    /**
     * @param maxStoredBaseImages how many bundles to keep, at least 1
     * @param warnings receives one line per evicted or repaired bundle
     */
    public BaseImageManager(Path cacheDir, int maxStoredBaseImages, String arch, Consumer<String> warnings, Clock clock) {
        this(cacheDir, maxStoredBaseImages, arch, warnings, clock, DownloadListener.NONE);
    }

    /** @param downloads told how each download of a bundle's files goes (a progress bar) */
    public BaseImageManager(Path cacheDir, int maxStoredBaseImages, String arch, Consumer<String> warnings, Clock clock,
            DownloadListener downloads) {
        this(cacheDir, maxStoredBaseImages, arch, warnings, clock, downloads, ciBucketFromEnvironment(), CommandRunner.system());
    }

    private BaseImageManager(Path cacheDir, int maxStoredBaseImages, String arch, Consumer<String> warnings, Clock clock,
            DownloadListener downloads, java.net.URI ciBucket, CommandRunner runner) {
        if (maxStoredBaseImages < 1) {
            throw new SmartVmException(ErrorCode.INVALID_BASE_IMAGE_CACHE_LIMIT,
                    "maxStoredBaseImages must be at least 1; found " + maxStoredBaseImages);
        }
        this.cacheDir = cacheDir;
        this.maxStoredBaseImages = maxStoredBaseImages;
        this.arch = arch;
        this.warnings = warnings;
        this.clock = clock;
        this.downloads = downloads;
        this.ciBucket = ciBucket;
        this.runner = runner;
    }

    /** $SMARTVM_FIRECRACKER_CI (a mirror of the bucket), else Firecracker's public CI bucket. */
    private static java.net.URI ciBucketFromEnvironment() {
        String configured = System.getenv("SMARTVM_FIRECRACKER_CI");
        return configured == null || configured.isBlank() ? FirecrackerCi.DEFAULT_BUCKET
                : java.net.URI.create(configured.endsWith("/") ? configured : configured + "/");
    }

    /** The same manager, listing Firecracker's CI images from {@code bucket} (a mirror, or a test server). */
    public BaseImageManager withCiBucket(java.net.URI bucket) {
        return new BaseImageManager(cacheDir, maxStoredBaseImages, arch, warnings, clock, downloads, bucket, runner);
    }

    /** The same cache with another limit (at least 1). */
    public BaseImageManager withLimit(int limit) {
        return new BaseImageManager(cacheDir, limit, arch, warnings, clock, downloads, ciBucket, runner);
    }

    public Path cacheDir() {
        return cacheDir;
    }

    public int maxStoredBaseImages() {
        return maxStoredBaseImages;
    }

    /**
     * The bundle of {@code preset}, fetched and verified if it is not cached (or a cached file no
     * longer matches its checksum), marked as used now; then the cache is pruned to its limit.
     *
     * @param manifest for {@code hosted}: the manifest's path or URL
     */
    public BaseImageBundle ensureBaseImage(String preset, String manifest) {
        if (CI_PRESETS.contains(preset)) {
            return ensureCiImage(preset);
        }
        if (!HOSTED.equals(preset)) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "unknown base image preset '" + preset + "'; known: "
                    + HOSTED + ", " + String.join(", ", CI_PRESETS));
        }
        if (manifest == null || manifest.isBlank()) {
            throw new SmartVmException(ErrorCode.BASE_IMAGE_MANIFEST_FAILED,
                    "the hosted preset needs a manifest (a path or an http(s) URL)");
        }
        createCacheDir();
        Path scratch = temporaryDir(".manifest-");
        HostedManifest m;
        try {
            m = HostedManifest.load(manifest, arch, scratch);
        } finally {
            deleteTree(scratch);
        }
        Map<String, String> expected = new HashMap<>();
        for (HostedManifest.Artifact a : List.of(m.kernel(), m.rootfs())) {
            expected.put(a.fileName(), a.sha256() != null ? a.sha256() : Artifacts.localSha(a));
        }
        String id = m.bundleId() != null ? m.bundleId() : m.idPrefix() + "-" + Hashing.sha256(String.join("\n", HOSTED, arch,
                expected.get(m.kernel().fileName()), expected.get(m.rootfs().fileName()), String.valueOf(m.bootArgs()),
                m.rootfsType(), String.valueOf(m.readOnly())).getBytes(StandardCharsets.UTF_8)).substring(0, 12);
        BaseImageBundle bundle;
        try (LockFile lock = LockFile.acquire(cacheDir.resolve(".lock-" + id))) {
            Path dir = cacheDir.resolve(id);
            bundle = Files.isRegularFile(dir.resolve(BaseImageBundle.FILE)) ? repair(read(dir), m, expected)
                    : fetch(m, id, expected);
            bundle = bundle.accessedAt(clock.instant());
            write(bundle);
        }
        pruneBaseImageCache(id);
        return bundle;
    }

    /**
     * A Firecracker CI image: the kernel as it is and the Ubuntu squashfs made into ext4. The
     * bucket publishes no checksums, so they are recorded at the first download; cached files
     * are checked against them, and a file fetched again must match what was first downloaded
     * (the ext4, made again from the same squashfs, gets a new checksum).
     */
    private BaseImageBundle ensureCiImage(String preset) {
        createCacheDir();
        Path scratch = temporaryDir(".listing-");
        FirecrackerCi.Selection sel;
        try {
            sel = FirecrackerCi.select(ciBucket, preset, arch, scratch);
        } finally {
            deleteTree(scratch);
        }
        String id = "firecracker-ci-" + sel.build().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9.-]", "-") + "-" + arch;
        BaseImageBundle bundle;
        try (LockFile lock = LockFile.acquire(cacheDir.resolve(".lock-" + id))) {
            Path dir = cacheDir.resolve(id);
            BaseImageBundle cached = Files.isRegularFile(dir.resolve(BaseImageBundle.FILE)) ? read(dir) : null;
            bundle = cached != null && intact(cached) ? cached : fetchCi(preset, sel, id, cached);
            bundle = bundle.accessedAt(clock.instant());
            write(bundle);
        }
        pruneBaseImageCache(id);
        return bundle;
    }

    /** True when the kernel and root filesystem still match the checksums recorded at download. */
    private boolean intact(BaseImageBundle b) {
        for (Path file : List.of(b.kernelPath(), b.rootfsPath())) {
            String name = file.getFileName().toString();
            if (!Files.isRegularFile(file)) {
                return false;
            }
            if (!Artifacts.stamp(file).equals(b.stamps().get(name)) && !Hashing.sha256(file).equals(b.checksums().get(name))) {
                warnings.accept("warning: base image " + b.bundleId() + ": " + name + " no longer matches its checksum;"
                        + " fetching it again");
                return false;
            }
        }
        return true;
    }

    private BaseImageBundle fetchCi(String preset, FirecrackerCi.Selection sel, String id, BaseImageBundle stale) {
        if (!Files.isExecutable(Path.of("/usr/bin/unsquashfs"))) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "Firecracker's CI root filesystems are squashfs;"
                    + " unpacking them needs unsquashfs: apt-get install squashfs-tools");
        }
        Path tmp = temporaryDir(".fetch-" + id + "-");
        try {
            Path kernel = Downloads.get(ciBucket.resolve(sel.kernel().key()), tmp.resolve("vmlinux"), "", downloads);
            Path squashfs = Downloads.get(ciBucket.resolve(sel.rootfs().key()), tmp.resolve("rootfs.squashfs"), "", downloads);
            for (var part : List.of(java.util.Map.entry(kernel, sel.kernel()), java.util.Map.entry(squashfs, sel.rootfs()))) {
                if (Files.size(part.getKey()) != part.getValue().size()) {
                    throw new SmartVmException(ErrorCode.CHECKSUM_MISMATCH, part.getValue().key() + " has "
                            + Files.size(part.getKey()) + " bytes; the bucket listing says " + part.getValue().size());
                }
            }
            String squashSha = Hashing.sha256(squashfs);
            String kernelSha = Hashing.sha256(kernel);
            if (stale != null && (!kernelSha.equals(stale.checksums().get("vmlinux"))
                    || !squashSha.equals(stale.checksums().get("rootfs.squashfs")))) {
                throw new SmartVmException(ErrorCode.CHECKSUM_MISMATCH, "Firecracker CI build " + sel.build() + " changed since"
                        + " its first download (the recorded checksums no longer match); remove " + id + " to accept it");
            }
            Path tree = tmp.resolve("tree");
            runner.run(List.of("/usr/bin/unsquashfs", "-q", "-n", "-d", tree.toString(), squashfs.toString()), null,
                    java.time.Duration.ofMinutes(10)).orThrow(ErrorCode.IMAGE_BUILD_FAILED);
            Path rootfs = Ext4Image.make(tree, tmp.resolve("rootfs.ext4"), runner);
            deleteTree(tree);
            Files.delete(squashfs);
            Map<String, String> checksums = Map.of("vmlinux", kernelSha, "rootfs.ext4", Hashing.sha256(rootfs),
                    "rootfs.squashfs", squashSha);
            Path dir = cacheDir.resolve(id);
            Instant now = clock.instant();
            BaseImageBundle bundle = new BaseImageBundle(preset, arch, Map.of("kernel", sel.kernelVersion(), "ubuntu",
                    sel.ubuntuVersion(), "build", sel.build()), id, dir, dir.resolve("vmlinux"), dir.resolve("rootfs.ext4"),
                    "ext4", false, "console=ttyS0 reboot=k panic=1 pci=off", ciBucket.resolve(FirecrackerCi.ROOT + sel.build()
                    + "/" + arch + "/").toString(), checksums, stale != null ? stale.createdAt() : now, now,
                    Map.of("vmlinux", Artifacts.stamp(kernel), "rootfs.ext4", Artifacts.stamp(rootfs)));
            return install(bundle, tmp);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot store base image " + id + ": " + e.getMessage(), e);
        } finally {
            deleteTree(tmp);
        }
    }

    /** Every cached bundle, least recently used first. */
    public List<BaseImageBundle> list() {
        if (!Files.isDirectory(cacheDir)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(cacheDir)) {
            return dirs.filter(d -> !d.getFileName().toString().startsWith("."))
                    .filter(d -> Files.isRegularFile(d.resolve(BaseImageBundle.FILE)))
                    .map(BaseImageManager::read)
                    .sorted(Comparator.comparing(BaseImageBundle::lastAccessedAt).thenComparing(BaseImageBundle::bundleId))
                    .toList();
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot list " + cacheDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Evicts the least recently used bundles beyond the limit, never {@code keepId}, and returns
     * the ids of those evicted (a warning names each).
     */
    public List<String> pruneBaseImageCache(String keepId) {
        List<BaseImageBundle> all = new ArrayList<>(list());
        List<String> evicted = new ArrayList<>();
        for (BaseImageBundle b : all) {
            if (all.size() - evicted.size() <= maxStoredBaseImages) {
                break;
            }
            if (b.bundleId().equals(keepId)) {
                continue;
            }
            try (LockFile lock = LockFile.acquire(cacheDir.resolve(".lock-" + b.bundleId()))) {
                deleteTree(b.bundleDir());
                lock.deleteFile();
            }
            evicted.add(b.bundleId());
            warnings.accept("warning: evicted base image " + b.bundleId() + " (least recently used; the cache keeps "
                    + maxStoredBaseImages + ")");
        }
        return evicted;
    }

    /** Removes one bundle; false when there was none with that id. */
    public boolean remove(String bundleId) {
        Path dir = cacheDir.resolve(bundleId);
        if (bundleId.startsWith(".") || bundleId.contains("/") || !Files.isRegularFile(dir.resolve(BaseImageBundle.FILE))) {
            return false;
        }
        try (LockFile lock = LockFile.acquire(cacheDir.resolve(".lock-" + bundleId))) {
            deleteTree(dir);
            lock.deleteFile();
        }
        return true;
    }

    private BaseImageBundle fetch(HostedManifest m, String id, Map<String, String> expected) {
        Path tmp = temporaryDir(".fetch-" + id + "-");
        try {
            Map<String, String> stamps = new HashMap<>();
            for (HostedManifest.Artifact a : List.of(m.kernel(), m.rootfs())) {
                Path file = Artifacts.obtain(a, tmp.resolve(a.fileName()), expected.get(a.fileName()), downloads);
                stamps.put(a.fileName(), Artifacts.stamp(file));
            }
            Path dir = cacheDir.resolve(id);
            Instant now = clock.instant();
            BaseImageBundle bundle = new BaseImageBundle(HOSTED, arch, m.versions(), id, dir, dir.resolve(m.kernel().fileName()),
                    dir.resolve(m.rootfs().fileName()), m.rootfsType(), m.readOnly(), m.bootArgs(), m.source(), expected, now,
                    now, stamps);
            return install(bundle, tmp);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot store base image " + id + ": " + e.getMessage(), e);
        } finally {
            deleteTree(tmp);
        }
    }

    /** Puts a bundle assembled in {@code tmp} in its place (replacing a stale one) with its record. */
    private static BaseImageBundle install(BaseImageBundle bundle, Path tmp) throws IOException {
        Json.write(tmp.resolve(BaseImageBundle.FILE), bundle);
        deleteTree(bundle.bundleDir());
        Files.move(tmp, bundle.bundleDir(), StandardCopyOption.ATOMIC_MOVE);
        return bundle;
    }

    /** Re-fetches each cached file whose stamp changed and whose checksum no longer matches. */
    private BaseImageBundle repair(BaseImageBundle cached, HostedManifest m, Map<String, String> expected) {
        Map<String, String> stamps = new HashMap<>(cached.stamps());
        for (HostedManifest.Artifact a : List.of(m.kernel(), m.rootfs())) {
            Path file = cached.bundleDir().resolve(a.fileName());
            String sha = expected.get(a.fileName());
            if (Files.isRegularFile(file) && Artifacts.stamp(file).equals(stamps.get(a.fileName()))) {
                continue;
            }
            if (Files.isRegularFile(file) && Hashing.sha256(file).equals(sha)) {
                stamps.put(a.fileName(), Artifacts.stamp(file));
                continue;
            }
            warnings.accept("warning: base image " + cached.bundleId() + ": " + a.fileName()
                    + " no longer matches its checksum; fetching it again");
            Path tmp = temporaryDir(".repair-" + cached.bundleId() + "-");
            try {
                Path fresh = Artifacts.obtain(a, tmp.resolve(a.fileName()), sha, downloads);
                Files.move(fresh, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                stamps.put(a.fileName(), Artifacts.stamp(file));
            } catch (IOException e) {
                throw new SmartVmException(ErrorCode.IO_ERROR, "cannot repair " + file + ": " + e.getMessage(), e);
            } finally {
                deleteTree(tmp);
            }
        }
        return cached.withStamps(stamps);
    }

    /** Reads a bundle's record, with its paths taken from where the directory is now. */
    static BaseImageBundle read(Path dir) {
        BaseImageBundle b = Json.read(dir.resolve(BaseImageBundle.FILE), BaseImageBundle.class);
        return new BaseImageBundle(b.preset(), b.arch(), b.versions(), b.bundleId(), dir,
                dir.resolve(b.kernelPath().getFileName()), dir.resolve(b.rootfsPath().getFileName()), b.rootfsType(),
                b.readOnly(), b.bootArgs(), b.source(), b.checksums(), b.createdAt(), b.lastAccessedAt(), b.stamps());
    }

    private static void write(BaseImageBundle b) {
        Json.write(b.bundleDir().resolve(BaseImageBundle.FILE), b);
    }

    private void createCacheDir() {
        try {
            Files.createDirectories(cacheDir);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot create the base image cache " + cacheDir + ": "
                    + e.getMessage(), e);
        }
    }

    private Path temporaryDir(String prefix) {
        try {
            return Files.createTempDirectory(cacheDir, prefix);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write in " + cacheDir + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path dir) {
        try {
            FileTrees.delete(dir);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot remove " + dir + ": " + e.getMessage(), e);
        }
    }
}

package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.AgentBinary;
import dev.smartvm.internal.image.DebianPackages.PackageInfo;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.LockFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The embedded default image, built from the host's Debian package registry: the kernel of
 * {@code linux-image-cloud-amd64}, the virtio modules it needs, {@code busybox-static}, and
 * the SmartVM agent as /init. Cached under a key of all inputs, so it is rebuilt only when the
 * kernel, busybox or the agent changes.
 */
public final class DefaultImage {
    static final int FORMAT = 2;
    static final String KERNEL_PACKAGE = "linux-image-cloud-amd64";
    static final String BUSYBOX_PACKAGE = "busybox-static";
    /** vsock_loopback lets guest programs (and the tests of the agent's vsock listener) use CID 1. */
    static final List<String> MODULES = List.of("virtio_mmio", "virtio_console", "virtio_blk", "virtio_net",
            "vmw_vsock_virtio_transport", "vsock_loopback", "virtio_rng");
    private static final String PREFIX = "default-";

    private final Path imagesDir;
    private final CommandRunner runner;
    private final Consumer<String> progress;
    private final Path aptLists;

    public DefaultImage(Path imagesDir, CommandRunner runner, Consumer<String> progress) {
        this(imagesDir, runner, progress, Path.of("/var/lib/apt/lists"));
    }

    DefaultImage(Path imagesDir, CommandRunner runner, Consumer<String> progress, Path aptLists) {
        this.imagesDir = imagesDir;
        this.runner = runner;
        this.progress = progress;
        this.aptLists = aptLists;
    }

    /**
     * Metadata of a built image, kept as image.json beside {@code vmlinuz} and
     * {@code initramfs.cpio}. {@code rootDisk}, when set, names a raw ext4 file in the same
     * directory that the agent mounts as the root of every command.
     */
    public record Manifest(String id, String kernelPackage, String kernelVersion, String busyboxVersion,
            String agentSha256, List<String> modules, Instant createdAt, String rootDisk) {
    }

    /** The last resolution of the inputs, valid while the apt lists, the agent and the recipe are unchanged. */
    record Resolution(String aptLists, String agentSha256, String recipe, String bundle) {
    }

    /**
     * Returns the cached bundle for the current inputs, building it first if needed. Asking apt
     * for the package versions costs about a second per package, so the answer is remembered
     * until the apt lists change (apt-get update) or the agent does.
     */
    public ImageBundle ensure() {
        Path resolutionFile = imagesDir.resolve("default.resolved.json");
        String lists = aptListsStamp(aptLists);
        String agentSha = AgentBinary.sha256();
        if (Files.isRegularFile(resolutionFile)) {
            Resolution r = Json.read(resolutionFile, Resolution.class);
            Path dir = imagesDir.resolve(r.bundle());
            if (r.aptLists().equals(lists) && r.agentSha256().equals(agentSha) && recipe().equals(r.recipe())
                    && Files.isRegularFile(dir.resolve("image.json"))) {
                return load(dir);
            }
        }
        ImageBundle bundle = resolveAndBuild();
        Json.write(resolutionFile, new Resolution(lists, agentSha, recipe(), bundle.id()));
        return bundle;
    }

    /** How SmartVM makes the image, besides its packages: a change here must rebuild it. */
    static String recipe() {
        return "format " + FORMAT + "\n" + String.join(",", MODULES);
    }

    /** Names, sizes and times of the apt list files: it changes exactly when apt-get update changed something. */
    static String aptListsStamp(Path listsDir) {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.list(listsDir)) {
            for (Path f : files.sorted().toList()) {
                sb.append(f.getFileName()).append(' ').append(Files.size(f)).append(' ')
                        .append(Files.getLastModifiedTime(f).toMillis()).append('\n');
            }
        } catch (IOException e) {
            return "unreadable";
        }
        return Hashing.sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    @SuppressWarnings("try") // the lock is held for the block
    private ImageBundle resolveAndBuild() {
        DebianPackages apt = new DebianPackages(runner);
        Optional<PackageInfo> busybox = apt.info(BUSYBOX_PACKAGE);
        if (busybox.isEmpty()) {
            return newestBuilt().orElseThrow(() -> new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED,
                    "cannot build the default image: apt knows no package " + BUSYBOX_PACKAGE
                            + "; run 'apt-get update' (as root) so the package lists are present"));
        }
        PackageInfo kernel = apt.resolveKernel(KERNEL_PACKAGE);
        String key = Hashing.sha256(String.join("\n", recipe(), kernel.name(), kernel.version(),
                busybox.get().version(), AgentBinary.sha256())
                .getBytes(StandardCharsets.UTF_8)).substring(0, 16);
        Path dir = imagesDir.resolve(PREFIX + key);
        if (Files.isRegularFile(dir.resolve("image.json"))) {
            return load(dir);
        }
        try (LockFile lock = LockFile.acquire(imagesDir.resolve(".default.lock"))) {
            if (Files.isRegularFile(dir.resolve("image.json"))) {
                return load(dir);
            }
            build(apt, kernel, busybox.get(), key, dir);
        }
        return load(dir);
    }

    /** Every built default image, newest first. */
    static List<ImageBundle> built(Path imagesDir) {
        if (!Files.isDirectory(imagesDir)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(imagesDir)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith(PREFIX))
                    .filter(d -> Files.isRegularFile(d.resolve("image.json")))
                    .sorted(Comparator.comparing((Path d) -> Json.read(d.resolve("image.json"), Manifest.class).createdAt())
                            .reversed())
                    .map(DefaultImage::load)
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * Deletes the default images that are no longer the current one (a newer kernel, busybox or
     * agent replaced them) and returns their ids. The current one is the last resolved, else the
     * newest.
     */
    static List<String> pruneOld(Path imagesDir) {
        List<ImageBundle> all = built(imagesDir);
        Path resolutionFile = imagesDir.resolve("default.resolved.json");
        String current = Files.isRegularFile(resolutionFile) ? Json.read(resolutionFile, Resolution.class).bundle()
                : all.isEmpty() ? null : all.get(0).id();
        List<String> removed = new java.util.ArrayList<>();
        for (ImageBundle b : all) {
            if (!b.id().equals(current)) {
                FileTrees.deleteQuietly(b.kernel().getParent());
                removed.add(b.id());
            }
        }
        return removed;
    }

    private Optional<ImageBundle> newestBuilt() {
        return built(imagesDir).stream().findFirst();
    }

    static ImageBundle load(Path dir) {
        Manifest m = Json.read(dir.resolve("image.json"), Manifest.class);
        Path rootDisk = null;
        if (m.rootDisk() != null) {
            if (m.rootDisk().isEmpty() || m.rootDisk().contains("/") || m.rootDisk().equals("..")) {
                throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "image " + dir
                        + ": rootDisk must be a file name in the image directory; found '" + m.rootDisk() + "'");
            }
            rootDisk = dir.resolve(m.rootDisk());
        }
        for (Path required : rootDisk == null ? List.of(dir.resolve("vmlinuz"), dir.resolve("initramfs.cpio"))
                : List.of(dir.resolve("vmlinuz"), dir.resolve("initramfs.cpio"), rootDisk)) {
            if (!Files.isRegularFile(required)) {
                throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "image " + dir + " has no " + required.getFileName());
            }
        }
        return new ImageBundle(m.id(), dir.resolve("vmlinuz"), dir.resolve("initramfs.cpio"), rootDisk,
                "Debian " + m.kernelPackage() + " " + m.kernelVersion() + ", busybox " + m.busyboxVersion()
                        + (rootDisk == null ? "" : ", root disk " + m.rootDisk()));
    }

    private void build(DebianPackages apt, PackageInfo kernel, PackageInfo busybox, String key, Path dir) {
        Path tmp = null;
        try {
            Files.createDirectories(imagesDir);
            tmp = Files.createTempDirectory(imagesDir, ".build-");
            Path debs = Files.createDirectories(tmp.resolve("debs"));
            progress.accept("downloading " + kernel.name() + " " + kernel.version());
            apt.fetchAndUnpack(kernel, debs, tmp.resolve("kernel"));
            progress.accept("downloading " + busybox.name() + " " + busybox.version());
            apt.fetchAndUnpack(busybox, debs, tmp.resolve("busybox"));
            Path out = Files.createDirectories(tmp.resolve("out"));
            Files.copy(findKernel(tmp.resolve("kernel/boot")), out.resolve("vmlinuz"));
            progress.accept("packing the initramfs");
            List<String> modules = writeInitramfs(tmp, out.resolve("initramfs.cpio"));
            Json.write(out.resolve("image.json"), new Manifest(PREFIX + key, kernel.name(), kernel.version(),
                    busybox.version(), AgentBinary.sha256(), modules, Instant.now(), null));
            Files.move(out, dir, StandardCopyOption.ATOMIC_MOVE);
            progress.accept("built the default image " + dir.getFileName());
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "cannot build the default image: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                FileTrees.deleteQuietly(tmp);
            }
        }
    }

    private static Path findKernel(Path boot) throws IOException {
        try (Stream<Path> files = Files.list(boot)) {
            return files.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).findFirst()
                    .orElseThrow(() -> new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "no vmlinuz in " + boot));
        }
    }

    private List<String> writeInitramfs(Path work, Path target) throws IOException {
        Path modulesRoot;
        try (Stream<Path> versions = Files.list(work.resolve("kernel/lib/modules"))) {
            modulesRoot = versions.findFirst().orElseThrow(() ->
                    new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "the kernel package has no modules"));
        }
        KernelModules index = KernelModules.index(modulesRoot);
        List<String> order = index.loadOrder(MODULES);
        Path busybox = work.resolve("busybox/bin/busybox");
        List<String> applets = runner.run(List.of(busybox.toString(), "--list-full"), null, Duration.ofSeconds(30))
                .orThrow(ErrorCode.IMAGE_BUILD_FAILED).stdout().lines().map(String::strip)
                .filter(s -> !s.isEmpty() && !s.equals("init") && !s.equals("linuxrc")).toList();
        try (OutputStream os = Files.newOutputStream(target); Initramfs cpio = new Initramfs(os)) {
            for (String d : List.of("dev", "proc", "sys", "tmp", "run", "root", "etc", "bin", "sbin", "usr/bin", "usr/sbin")) {
                cpio.directory(d, d.equals("tmp") ? 01777 : 0755);
            }
            cpio.charDevice("dev/console", 0600, 5, 1);
            cpio.charDevice("dev/null", 0666, 1, 3);
            cpio.file("init", 0755, AgentBinary.bytes());
            cpio.file("bin/busybox", 0755, busybox);
            for (String applet : applets) {
                if (!applet.equals("bin/busybox")) {
                    cpio.symlink(applet, "/bin/busybox");
                }
            }
            for (String m : order) {
                cpio.file("lib/modules/" + m + ".ko", 0644, index.path(m));
            }
            cpio.file("lib/modules/smartvm.release", 0644, // the agent loads them only into this kernel
                    (modulesRoot.getFileName() + "\n").getBytes(StandardCharsets.UTF_8));
            cpio.file("lib/modules/smartvm.order", 0644,
                    (String.join("\n", order.stream().map(m -> m + ".ko").toList()) + "\n").getBytes(StandardCharsets.UTF_8));
            cpio.file("etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
                    .getBytes(StandardCharsets.UTF_8));
            cpio.file("etc/group", 0644, "root:x:0:\nnogroup:x:65534:\n".getBytes(StandardCharsets.UTF_8));
        }
        return order;
    }
}

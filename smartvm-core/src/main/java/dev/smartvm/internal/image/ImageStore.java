package dev.smartvm.internal.image;

import dev.smartvm.DownloadListener;
import dev.smartvm.ErrorCode;
import dev.smartvm.ImageInfo;
import dev.smartvm.Leftover;
import dev.smartvm.Images;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.HostArch;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.io.Sweep;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Every image cache, under one root (the images directory): default builds and Debian builds in
 * it, OCI images in {@code oci/}, base images in {@code base/}. A reference is parsed once
 * ({@link ImageRef}) and resolved by the one source of its kind.
 */
public final class ImageStore implements Images {
    private final Path imagesDir;
    private final CommandRunner runner;
    private final Consumer<String> progress;
    private final BaseImageManager baseImages;
    private final OciImages ociImages;

    public ImageStore(Path imagesDir, CommandRunner runner, Consumer<String> progress, DownloadListener downloads) {
        this(imagesDir, runner, progress, new BaseImageManager(imagesDir.resolve("base"), DEFAULT_MAX_BASE_IMAGES,
                HostArch.name(), progress, Clock.systemUTC(), downloads), OciRegistryClient.fromEnvironment(downloads));
    }

    ImageStore(Path imagesDir, CommandRunner runner, Consumer<String> progress, BaseImageManager baseImages,
            OciRegistryClient registries) {
        this.imagesDir = imagesDir;
        this.runner = runner;
        this.progress = progress;
        this.baseImages = baseImages;
        this.ociImages = new OciImages(imagesDir.resolve("oci"), registries, runner, progress);
    }

    public Path directory() {
        return imagesDir;
    }

    /**
     * Finds (and, unless a dry run, deletes) the lock files of images no longer cached: a base
     * image's {@code base/.lock-ID} without {@code base/ID}, an OCI image's
     * {@code oci/.lock-HEX} without {@code oci/images/HEX}. One held is left.
     */
    public void sweepLocks(Sweep sweep) {
        sweepLocks(sweep, imagesDir.resolve("base"), imagesDir.resolve("base"));
        sweepLocks(sweep, imagesDir.resolve("oci"), imagesDir.resolve("oci").resolve("images"));
    }

    private static void sweepLocks(Sweep sweep, Path locks, Path images) {
        List<Path> found = new ArrayList<>();
        try (var entries = java.nio.file.Files.list(locks)) {
            entries.filter(p -> p.getFileName().toString().startsWith(".lock-")).forEach(found::add);
        } catch (java.io.IOException e) {
            return; // no such cache
        }
        for (Path lock : found) {
            String id = lock.getFileName().toString().substring(".lock-".length());
            if (!java.nio.file.Files.exists(images.resolve(id)) && LockFile.isFree(lock)) {
                sweep.found(Leftover.Kind.LOCK, lock.toString(), "the lock of an image no longer cached",
                        () -> LockFile.deleteIfFree(lock));
            }
        }
    }

    /** What {@code ref} names, fetched or built if it is not cached, ready to boot. */
    public ImageBundle resolve(String ref) {
        ImageRef parsed = ImageRef.parse(ref);
        return switch (parsed) {
            case ImageRef.Default d -> defaultImage().ensure();
            case ImageRef.Hosted h -> onDefaultKernel(baseImages.ensureBaseImage(BaseImageManager.HOSTED, h.manifest()));
            case ImageRef.FirecrackerCi ci -> onDefaultKernel(baseImages.ensureBaseImage(ci.preset(), null));
            case ImageRef.Debian d -> onDefaultKernel(debian().ensure(d.suite(), DebianRootfs.DEFAULT_PACKAGES,
                    DebianRootfs.DEFAULT_MIRROR, false));
            case ImageRef.Directory d -> DebianRootfs.load(d.dir()).map(this::onDefaultKernel)
                    .orElseGet(() -> DefaultImage.load(d.dir()));
            case ImageRef.Oci o -> onDefaultKernel(pullOci(ref, o));
        };
    }

    private OciImages.OciImage pullOci(String text, ImageRef.Oci ref) {
        try {
            return ociImages.pull(ref.reference());
        } catch (SmartVmException e) {
            boolean bareWord = !text.contains("/") && !text.contains(":") && !text.contains("@");
            if (!bareWord || e.code() != ErrorCode.DOWNLOAD_FAILED && e.code() != ErrorCode.IMAGE_NOT_FOUND) {
                throw e;
            }
            throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "no image '" + text + "': it is no image directory here,"
                    + " and as " + ref.reference() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public ImageInfo pull(String reference) {
        ImageRef parsed = ImageRef.parse(reference);
        return switch (parsed) {
            case ImageRef.Hosted h -> info(baseImages.ensureBaseImage(BaseImageManager.HOSTED, h.manifest()));
            case ImageRef.FirecrackerCi ci -> info(baseImages.ensureBaseImage(ci.preset(), null));
            case ImageRef.Oci o -> info(pullOci(reference, o));
            case ImageRef.Debian d -> info(debian().ensure(d.suite(), DebianRootfs.DEFAULT_PACKAGES,
                    DebianRootfs.DEFAULT_MIRROR, false));
            case ImageRef.Default d -> info(defaultImage().ensure());
            case ImageRef.Directory d -> DebianRootfs.load(d.dir()).map(ImageStore::info)
                    .orElseGet(() -> info(DefaultImage.load(d.dir())));
        };
    }

    @Override
    public List<ImageInfo> list() {
        List<ImageInfo> all = new ArrayList<>();
        DefaultImage.built(imagesDir).forEach(b -> all.add(info(b)));
        baseImages.list().forEach(b -> all.add(info(b)));
        ociImages.list().forEach(i -> all.add(info(i)));
        return all;
    }

    @Override
    public Path buildDebian(String suite, List<String> packages, String mirror, boolean rebuild) {
        return debian().ensure(suite, packages, mirror, rebuild).rootDisk().getParent();
    }

    @Override
    public boolean remove(String id) {
        if (baseImages.remove(id) || ociImages.remove(id)) {
            return true;
        }
        for (ImageBundle b : DefaultImage.built(imagesDir)) {
            if (b.id().equals(id)) {
                FileTrees.deleteQuietly(b.kernel().getParent());
                return true;
            }
        }
        return false;
    }

    @Override
    public List<String> prune(int maxBaseImages) {
        List<String> removed = new ArrayList<>(baseImages.withLimit(maxBaseImages).pruneBaseImageCache(null));
        removed.addAll(DefaultImage.pruneOld(imagesDir));
        return removed;
    }

    private DefaultImage defaultImage() {
        return new DefaultImage(imagesDir, runner, progress);
    }

    private DebianRootfs debian() {
        return new DebianRootfs(imagesDir, runner, progress);
    }

    private static ImageInfo info(ImageBundle b) {
        return new ImageInfo(b.id(), "default", b.description(), b.defaults().command(), details("dir",
                b.kernel().getParent().toString(), "description", b.description()));
    }

    private static ImageInfo info(BaseImageBundle b) {
        return new ImageInfo(b.bundleId(), b.preset(), b.source() + " (used " + b.lastAccessedAt() + ")", List.of(),
                details("dir", b.bundleDir().toString(), "source", b.source(), "rootfsType", b.rootfsType(),
                        "readOnly", b.readOnly(), "lastAccessedAt", b.lastAccessedAt().toString(), "versions", b.versions()));
    }

    private static ImageInfo info(OciImages.OciImage i) {
        return new ImageInfo(i.digest().substring(7, 19), "oci", i.reference() + " (" + i.digest() + ")",
                i.defaults().command(), details("reference", i.reference(), "digest", i.digest(),
                        "rootDisk", i.rootDisk().toString(), "pulledAt", i.pulledAt().toString()));
    }

    private static ImageInfo info(DebianRootfs.Build b) {
        String what = "Debian " + b.suite() + " (" + String.join(", ", b.packages()) + ")";
        return new ImageInfo("debian-" + b.suite(), "debian", what, List.of(), details("dir", b.rootDisk().getParent().toString(),
                "suite", b.suite(), "packages", String.join(",", b.packages()), "builtAt", b.builtAt().toString()));
    }

    private static Map<String, Object> details(Object... pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], pairs[i + 1]);
        }
        return m;
    }

    /**
     * A root filesystem booted by the default kernel and the agent's initramfs: the agent needs
     * its kernel modules, which only the default kernel has (a base image's own kernel stays in
     * the cache, unused by the backends so far).
     */
    private ImageBundle onDefaultKernel(String id, Path rootDisk, String fsType, boolean readOnly, ExecDefaults defaults,
            String what) {
        ImageBundle boot = defaultImage().ensure();
        return new ImageBundle(id + "+" + boot.id(), boot.kernel(), boot.initrd(), rootDisk, fsType, readOnly, defaults,
                what + " on " + boot.description());
    }

    private ImageBundle onDefaultKernel(DebianRootfs.Build b) {
        return onDefaultKernel("debian-" + b.suite(), b.rootDisk(), "ext4", false, ExecDefaults.NONE,
                "Debian " + b.suite() + " (" + String.join(", ", b.packages()) + ")");
    }

    private ImageBundle onDefaultKernel(BaseImageBundle b) {
        return onDefaultKernel(b.bundleId(), b.rootfsPath(), b.rootfsType(), b.readOnly(), ExecDefaults.NONE,
                "base image " + b.bundleId() + " (" + b.source() + ")");
    }

    private ImageBundle onDefaultKernel(OciImages.OciImage image) {
        return onDefaultKernel(image.digest().substring(7, 23), image.rootDisk(), "ext4", false, image.defaults(),
                "OCI image " + image.reference() + " (" + image.digest() + ")");
    }
}

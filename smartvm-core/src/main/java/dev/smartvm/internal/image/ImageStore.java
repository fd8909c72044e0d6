package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.FileTrees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Turns an image reference into a bootable bundle: {@code default}, a built bundle's directory,
 * {@code hosted:<manifest path or URL>} or {@code firecracker-ci:lts|latest} (base images from
 * {@link BaseImageManager}, whose root filesystem the agent switches to), or an OCI reference.
 */
public final class ImageStore {
    public static final String HOSTED_PREFIX = "hosted:";
    /** {@code firecracker-ci:lts} or {@code firecracker-ci:latest}: an Ubuntu image of Firecracker's CI. */
    public static final String FIRECRACKER_CI_PREFIX = "firecracker-ci:";

    private final Path imagesDir;
    private final CommandRunner runner;
    private final Consumer<String> progress;
    private final BaseImageManager baseImages;
    private final OciImages ociImages;

    public ImageStore(Path imagesDir, CommandRunner runner, Consumer<String> progress, BaseImageManager baseImages,
            OciRegistryClient registries) {
        this.imagesDir = imagesDir;
        this.runner = runner;
        this.progress = progress;
        this.baseImages = baseImages;
        this.ociImages = new OciImages(imagesDir.resolve("oci"), registries, runner, progress);
    }

    public OciImages ociImages() {
        return ociImages;
    }

    public BaseImageManager baseImages() {
        return baseImages;
    }

    public Path directory() {
        return imagesDir;
    }

    /** The default images built in this store, newest first. */
    public java.util.List<ImageBundle> builtImages() {
        return DefaultImage.built(imagesDir);
    }

    /** Deletes one built default image; false when there is none with that id. */
    public boolean removeBuilt(String id) {
        for (ImageBundle b : builtImages()) {
            if (b.id().equals(id)) {
                FileTrees.deleteQuietly(b.kernel().getParent());
                return true;
            }
        }
        return false;
    }

    /** Deletes default images that a newer build replaced; returns their ids. */
    public java.util.List<String> pruneOldBuilds() {
        return DefaultImage.pruneOld(imagesDir);
    }

    public ImageBundle resolve(String ref) {
        if (ref.equals("default")) {
            return new DefaultImage(imagesDir, runner, progress).ensure();
        }
        if (ref.startsWith(HOSTED_PREFIX)) {
            return onDefaultKernel(baseImages.ensureBaseImage(BaseImageManager.HOSTED, ref.substring(HOSTED_PREFIX.length())));
        }
        if (ref.equals("debian") || ref.startsWith("debian:")) {
            String suite = ref.equals("debian") ? DebianRootfs.DEFAULT_SUITE : ref.substring("debian:".length());
            return onDefaultKernel(new DebianRootfs(imagesDir, runner, progress).ensure(suite, DebianRootfs.DEFAULT_PACKAGES,
                    DebianRootfs.DEFAULT_MIRROR, false));
        }
        if (ref.startsWith(FIRECRACKER_CI_PREFIX)) {
            return onDefaultKernel(baseImages.ensureBaseImage(ref.substring(FIRECRACKER_CI_PREFIX.length()), null));
        }
        Path dir = Path.of(ref);
        if (Files.isRegularFile(dir.resolve("image.json"))) {
            return DefaultImage.load(dir);
        }
        java.util.Optional<DebianRootfs.Build> debian = DebianRootfs.load(dir);
        if (debian.isPresent()) {
            return onDefaultKernel(debian.get());
        }
        java.util.Optional<OciReference> oci = OciReference.tryParse(ref);
        if (oci.isPresent()) {
            OciImages.OciImage image;
            try {
                image = ociImages.pull(oci.get());
            } catch (SmartVmException e) {
                boolean bareWord = !ref.contains("/") && !ref.contains(":") && !ref.contains("@");
                if (!bareWord || e.code() != ErrorCode.DOWNLOAD_FAILED && e.code() != ErrorCode.IMAGE_NOT_FOUND) {
                    throw e;
                }
                throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "no image '" + ref + "': it is no image directory here,"
                        + " and as " + oci.get() + ": " + e.getMessage(), e);
            }
            return onDefaultKernel(image.digest().substring(7, 23), image.rootDisk(), "ext4", false, image.defaults(),
                    "OCI image " + image.reference() + " (" + image.digest() + ")");
        }
        throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "no image '" + ref + "': use 'default', the directory of a"
                + " built image, hosted:<manifest path or URL>, firecracker-ci:lts|latest, or an OCI reference such as alpine:3.20");
    }

    /**
     * A root filesystem booted by the default kernel and the agent's initramfs: the agent needs
     * its kernel modules, which only the default kernel has (a base image's own kernel stays in
     * the cache, unused by the backends so far).
     */
    private ImageBundle onDefaultKernel(String id, Path rootDisk, String fsType, boolean readOnly, ExecDefaults defaults,
            String what) {
        ImageBundle boot = new DefaultImage(imagesDir, runner, progress).ensure();
        return new ImageBundle(id + "+" + boot.id(), boot.kernel(), boot.initrd(), rootDisk, fsType, readOnly, defaults,
                what + " on " + boot.description());
    }

    private ImageBundle onDefaultKernel(DebianRootfs.Build b) {
        return onDefaultKernel("debian-" + b.suite(), b.rootDisk(), "ext4", false, ExecDefaults.NONE,
                "Debian " + b.suite() + " (" + String.join(", ", b.packages()) + ")");
    }

    /** Debian root filesystems built by mmdebstrap in this store. */
    public DebianRootfs debian() {
        return new DebianRootfs(imagesDir, runner, progress);
    }

    private ImageBundle onDefaultKernel(BaseImageBundle b) {
        return onDefaultKernel(b.bundleId(), b.rootfsPath(), b.rootfsType(), b.readOnly(), ExecDefaults.NONE,
                "base image " + b.bundleId() + " (" + b.source() + ")");
    }
}

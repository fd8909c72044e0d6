package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * An image reference, parsed once into what it names; each kind has one source
 * ({@link ImageStore#resolve}).
 */
public sealed interface ImageRef {
    String HOSTED_PREFIX = "hosted:";
    String FIRECRACKER_CI_PREFIX = "firecracker-ci:";

    /** The image built here from Debian packages (kernel, agent initramfs, busybox). */
    record Default() implements ImageRef {
    }

    /** A base image described by a manifest with checksums. */
    record Hosted(String manifest) implements ImageRef {
    }

    /** A base image of Firecracker's CI bucket: {@code lts} or {@code latest}. */
    record FirecrackerCi(String preset) implements ImageRef {
    }

    /** A Debian root filesystem built with mmdebstrap. */
    record Debian(String suite) implements ImageRef {
    }

    /** The directory of a built image or of a Debian build. */
    record Directory(Path dir) implements ImageRef {
    }

    record Oci(OciReference reference) implements ImageRef {
    }

    /**
     * What {@code text} names. A word that is both the name of an image directory here and an
     * OCI reference is the directory.
     *
     * @throws SmartVmException IMAGE_NOT_FOUND for a path with no image; INVALID_ARGUMENT for
     *     what is neither a path nor a reference
     */
    static ImageRef parse(String text) {
        if (text.equals("default")) {
            return new Default();
        }
        if (text.startsWith(HOSTED_PREFIX)) {
            return new Hosted(text.substring(HOSTED_PREFIX.length()));
        }
        if (text.startsWith(FIRECRACKER_CI_PREFIX)) {
            return new FirecrackerCi(text.substring(FIRECRACKER_CI_PREFIX.length()));
        }
        if (text.equals("debian") || text.startsWith("debian:")) {
            return new Debian(text.equals("debian") ? DebianRootfs.DEFAULT_SUITE : text.substring("debian:".length()));
        }
        Path dir = Path.of(text);
        if (Files.isRegularFile(dir.resolve("image.json")) || DebianRootfs.load(dir).isPresent()) {
            return new Directory(dir);
        }
        Optional<OciReference> oci = OciReference.tryParse(text);
        if (oci.isPresent()) {
            return new Oci(oci.get());
        }
        String kinds = "use 'default', the directory of a built image, hosted:<manifest path or URL>, firecracker-ci:lts|latest,"
                + " debian[:SUITE], or an OCI reference such as alpine:3.20";
        if (text.startsWith("/") || text.startsWith(".")) {
            throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "no image '" + text + "': no image directory is there; " + kinds);
        }
        throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "'" + text + "' is not an image reference: " + kinds);
    }
}

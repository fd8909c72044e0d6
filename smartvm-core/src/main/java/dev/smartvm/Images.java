package dev.smartvm;

import java.nio.file.Path;
import java.util.List;

/**
 * The images a SmartVm boots ({@link SmartVm#images()}), cached under its images directory
 * ({@code $SMARTVM_HOME/images}, or {@code $SMARTVM_IMAGES}). A reference is one of:
 * {@code default} (built here from Debian packages), {@code debian[:SUITE]} (a Debian root
 * filesystem built with mmdebstrap), {@code hosted:<manifest path or URL>} (a base image from a
 * manifest with checksums), {@code firecracker-ci:lts|latest}, the directory of a built image,
 * or an OCI reference ({@code alpine:3.20}, {@code ghcr.io/org/repo@sha256:...}).
 */
public interface Images {
    /** How many base images (hosted, Firecracker CI) the cache keeps unless told otherwise. */
    int DEFAULT_MAX_BASE_IMAGES = 2;
    String DEFAULT_DEBIAN_SUITE = "bookworm";
    String DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian";
    List<String> DEFAULT_DEBIAN_PACKAGES = List.of("python3");

    /** Every cached image: default builds, base images, Debian builds, OCI images. */
    List<ImageInfo> list();

    /**
     * Fetches or builds what {@code reference} names (nothing when it is cached and intact).
     *
     * @throws SmartVmException IMAGE_NOT_FOUND for a reference that names nothing; DOWNLOAD_FAILED,
     *     IMAGE_BUILD_FAILED when fetching or building fails
     */
    ImageInfo pull(String reference);

    /** Builds (or reuses) a Debian root filesystem with mmdebstrap; returns its directory, which a spec's image takes. */
    Path buildDebian(String suite, List<String> packages, String mirror, boolean rebuild);

    /** Deletes the cached image {@code id}; false when there is none. */
    boolean remove(String id);

    /**
     * Evicts the least recently used base images beyond {@code maxBaseImages}, and default
     * images that a newer build replaced; returns the ids removed.
     */
    List<String> prune(int maxBaseImages);
}

package dev.smartvm.spi;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What an engine boots: a kernel, an initramfs whose /init is the SmartVM agent, and optionally
 * a root disk the agent mounts and runs commands in.
 *
 * @param id a content key: two images with the same id boot the same bits
 * @param kernel the kernel image
 * @param initrd the initramfs (the agent is its /init)
 * @param rootDisk a raw root disk (first virtio block device), or null to run commands in the initramfs
 * @param rootFsType the root disk's file system, e.g. ext4
 * @param rootReadOnly whether the agent mounts the root disk read-only
 */
public record BootImage(String id, Path kernel, Path initrd, Path rootDisk, String rootFsType, boolean rootReadOnly) {
    public BootImage {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        rootFsType = Objects.requireNonNullElse(rootFsType, "ext4");
        if (!rootFsType.matches("[a-z0-9]{1,16}")) {
            throw new IllegalArgumentException("not a file system type: " + rootFsType);
        }
    }

    /** What the kernel command line must say for the agent to switch to the root disk ("" without one). */
    public String rootKernelArgs() {
        if (rootDisk == null) {
            return "";
        }
        return rootKernelArgs(rootFsType, rootReadOnly);
    }

    /**
     * The kernel arguments by which SmartVM's agent mounts the first virtio disk ({@code /dev/vda})
     * as its root, of filesystem {@code fsType}, read-only when {@code readOnly}; with a space first.
     */
    public static String rootKernelArgs(String fsType, boolean readOnly) {
        return " smartvm.root=/dev/vda smartvm.rootfstype=" + fsType + (readOnly ? " smartvm.rootro=1" : "");
    }
}

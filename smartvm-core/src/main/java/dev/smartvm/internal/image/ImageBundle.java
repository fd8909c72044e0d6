package dev.smartvm.internal.image;

import dev.smartvm.spi.BootImage;
import java.nio.file.Path;

/**
 * What a VM boots: a kernel, an initramfs whose /init is the SmartVM agent, and optionally a
 * root disk the agent mounts and runs commands in.
 *
 * @param id a content key: two bundles with the same id boot the same bits
 * @param kernel the kernel image
 * @param initrd the initramfs (the agent is its /init)
 * @param rootDisk a raw root disk (first virtio block device), or null to run commands in the initramfs
 * @param rootFsType the root disk's file system, e.g. ext4
 * @param rootReadOnly whether the agent mounts the root disk read-only
 * @param defaults what every command inherits from the image (an OCI image's config)
 * @param description what it is made of, for humans
 */
public record ImageBundle(String id, Path kernel, Path initrd, Path rootDisk, String rootFsType, boolean rootReadOnly,
        ExecDefaults defaults, String description) {
    public ImageBundle {
        defaults = defaults == null ? ExecDefaults.NONE : defaults;
        if (rootFsType == null) {
            rootFsType = "ext4";
        }
        if (!rootFsType.matches("[a-z0-9]{1,16}")) {
            throw new IllegalArgumentException("not a file system type: " + rootFsType);
        }
    }

    /** A bundle whose root disk, if any, is a writable ext4. */
    public ImageBundle(String id, Path kernel, Path initrd, Path rootDisk, String description) {
        this(id, kernel, initrd, rootDisk, "ext4", false, ExecDefaults.NONE, description);
    }

    /** What an engine boots of it. */
    public BootImage boot() {
        return new BootImage(id, kernel, initrd, rootDisk, rootFsType, rootReadOnly);
    }
}

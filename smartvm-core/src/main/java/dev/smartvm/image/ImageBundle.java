package dev.smartvm.image;

import java.nio.file.Path;

/**
 * What a VM boots: a kernel, an initramfs whose /init is the SmartVM agent, and optionally a
 * root disk the agent mounts and runs commands in.
 *
 * @param id a content key: two bundles with the same id boot the same bits
 * @param kernel the kernel image
 * @param initrd the initramfs (the agent is its /init)
 * @param rootDisk a raw ext4 root disk, or null to run commands in the initramfs
 * @param description what it is made of, for humans
 */
public record ImageBundle(String id, Path kernel, Path initrd, Path rootDisk, String description) {
}

package dev.smartvm.spi;

/** What an engine can do beyond booting, running commands and stopping. */
public enum Capability {
    /** It runs on KVM only, with no TCG fallback. */
    KVM_ONLY,
    /**
     * It pulls its own images and makes its own network (smolvm): SmartVM passes the image
     * reference and the network request on ({@link BootRequest#engine}) instead of building an
     * image or attaching the VM to its bridge.
     */
    OWNS_IMAGES_AND_NETWORK,
    /** Its VMs can have QEMU-style user-mode networking (no root, only published ports reach in). */
    USER_MODE_NETWORK,
    /** It can pause and resume a running VM. */
    PAUSE,
    /** It can save a VM's state to files and start a VM from them. */
    SNAPSHOT,
    /**
     * It can boot a VM with its memory in a shared file ({@link TemplateMemory}), save its
     * devices and disk beside it ({@link VmmProcess#saveTemplate}), and start clones that map
     * that file copy-on-write ({@link TemplateClone}).
     */
    TEMPLATES
}

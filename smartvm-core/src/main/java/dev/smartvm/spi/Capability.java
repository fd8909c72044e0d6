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
    /**
     * Its guest answers {@link Guest#usage}: its memory, and how long no host request was active
     * (SmartVM's agent does). Idle timeouts need it.
     */
    GUEST_USAGE,
    /** It can save a VM's state to files and start a VM from them. */
    SNAPSHOT,
    /**
     * It can save a VM booted with a {@link TemplateMemory} as a template: its memory in that
     * file, its devices and disk beside it ({@link VmmProcess#saveTemplate}); and start clones
     * that map that file copy-on-write ({@link TemplateClone}). QEMU runs the template's guest in
     * the file itself; Firecracker writes the file when it saves.
     */
    TEMPLATES,
    /**
     * It can continue a running VM's state in new VMs: through a template made of its saved
     * state ({@link Backend#templateFromState}) when it has {@link #TEMPLATES}, else by itself
     * (smolvm's {@code machine fork}), when a VM's first start asks for it ({@link ForkOf}).
     */
    FORK
}

package dev.smartvm.backend;

/** An engine that runs microVMs. One implementation per engine; all pass the same contract test. */
public interface Backend {
    String name();

    /** True when the engine runs on KVM only (no TCG fallback). */
    default boolean needsKvm() {
        return false;
    }

    /**
     * True when the engine pulls its own images and makes its own network (smolvm): SmartVM then
     * passes the image reference and network request on ({@link LaunchSpec#engine}) instead of
     * building an image or attaching the VM to its bridge.
     */
    default boolean managesImagesAndNetwork() {
        return false;
    }

    /** Deletes what the engine keeps of a VM beyond its process (smolvm's machine) once the VM is removed. */
    default void discard(java.nio.file.Path vmDir) {
    }

    /** Starts a VMM and returns once its control channel answers (the guest may still be booting). */
    VmmProcess launch(LaunchSpec spec);

    /** Re-attaches to a VMM started earlier, possibly by another process. */
    VmmProcess attach(AttachSpec spec);
}

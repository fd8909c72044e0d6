package dev.smartvm.backend;

/** An engine that runs microVMs. One implementation per engine; all pass the same contract test. */
public interface Backend {
    String name();

    /** True when the engine runs on KVM only (no TCG fallback). */
    default boolean needsKvm() {
        return false;
    }

    /** Starts a VMM and returns once its control channel answers (the guest may still be booting). */
    VmmProcess launch(LaunchSpec spec);

    /** Re-attaches to a VMM started earlier, possibly by another process. */
    VmmProcess attach(AttachSpec spec);
}

package dev.smartvm;

import java.time.Duration;

/** A directory watch ({@link GuestFiles#watch}): its events in order, until closed. */
public interface FileWatch extends AutoCloseable {
    /**
     * The next event, waiting up to {@code timeout}; null when none came, or when the watch has
     * ended ({@link #isOpen()} false) and every event was read.
     */
    FileEvent poll(Duration timeout);

    /** False once the watched directory went away, the VM stopped, or {@link #close()} was called. */
    boolean isOpen();

    /** Ends the watch in the guest. Idempotent. */
    @Override
    void close();
}

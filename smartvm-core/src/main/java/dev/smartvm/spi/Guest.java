package dev.smartvm.spi;

import dev.smartvm.ExecProcess;
import dev.smartvm.ExecRequest;
import dev.smartvm.ErrorCode;
import dev.smartvm.ExecResult;
import dev.smartvm.GuestFiles;
import dev.smartvm.GuestUsage;
import dev.smartvm.SmartVmException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How SmartVM reaches into a running guest: commands and files. SmartVM's own agent for QEMU
 * and Firecracker; the engine's own way for an engine that has one (smolvm's CLI).
 */
public interface Guest extends AutoCloseable {
    /** Runs a command to its end and collects its output. */
    ExecResult run(ExecRequest request);

    /**
     * Starts a command; its output goes to {@code stdout} and {@code stderr}, or, when they are
     * null, to the returned process's streams. {@code withStdin} opens its stdin.
     */
    ExecProcess start(ExecRequest request, boolean withStdin, OutputStream stdout, OutputStream stderr);

    /** Copies a host file or directory into the guest ({@code cp -r} semantics); returns bytes copied. */
    long upload(Path source, String guestPath, Duration timeout);

    /** Copies a guest file or directory to the host ({@code cp -r} semantics); returns bytes copied. */
    long download(String guestPath, Path target, Duration timeout);

    /**
     * The guest's files (read, write, list, stat, mkdir, remove, rename, watch).
     *
     * @throws SmartVmException UNSUPPORTED for an engine without a way to them (the default)
     */
    default GuestFiles files() {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "this engine has no files API; copy files with"
                + " copyTo/copyFrom, or use the qemu or firecracker backend");
    }

    /** A round trip to the guest; its duration. */
    Duration ping(Duration timeout);

    /**
     * What the guest reports of its memory and activity; empty on an engine (or an agent) that cannot
     * tell. Not activity itself: asking does not make the guest any less idle.
     */
    default Optional<GuestUsage> usage(Duration timeout) {
        return Optional.empty();
    }

    /**
     * Sets the guest's wall clock to the host's after a pause (which stops it), without waiting
     * for the answer; what is asked of the guest next sees it set. Nothing for a guest that
     * keeps its own time (the default).
     */
    default void syncClock() {
    }

    /**
     * Tells the guest its VM id and hostname (a clone's or a restored VM's are its own, not those
     * its kernel booted with), and for a restored guest with a network ({@code nic} not null)
     * its own MAC and address, without waiting for the answer. Nothing by default.
     */
    default void identify(String vmId, String hostname, NicSpec nic) {
    }

    /** Asks the guest to power off; does not wait for the VMM. */
    void shutdown();

    /** Whether this way in still works (a lost agent connection does not). */
    boolean isOpen();

    /** Lets go of the guest; what still runs through it fails with {@code reason} (null: closed). Idempotent. */
    void close(RuntimeException reason);

    @Override
    default void close() {
        close(null);
    }
}

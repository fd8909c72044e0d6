package dev.smartvm.spi;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** One running VMM: its control channel, its agent socket, and its life. */
public interface VmmProcess extends AutoCloseable {
    long pid();

    /** Where the guest agent is reached (unused when {@link #guest} is given). */
    AgentEndpoint agentEndpoint();

    /**
     * The engine's own way into the guest, waiting up to {@code timeout} for it to answer; null
     * (the default) when the guest runs SmartVM's agent, reached at {@link #agentEndpoint}.
     */
    default Guest guest(Duration timeout) {
        return null;
    }

    /**
     * What to tell a user whose guest never answered as SmartVM's agent, or empty (the default):
     * for a kernel SmartVM did not choose, what it needs to run the agent.
     */
    default Optional<String> agentHint() {
        return Optional.empty();
    }

    /**
     * The host thread ids of the VM's vCPUs, whose CPU time is the VM's; empty when the engine cannot
     * tell them from its other threads (the whole process's time is counted then).
     */
    default List<Long> vcpuThreads() {
        return List.of();
    }

    /** The host file that holds what the guest wrote to its root disk (an overlay, a copy); empty when none is the VM's own. */
    default Optional<Path> writableDisk() {
        return Optional.empty();
    }

    /**
     * The VM was let go of on purpose ({@code MicroVm.detach}, {@code smartvm create}): it runs on
     * with no process owning it. An engine that marks its objects with their owner (Kubernetes)
     * hands them over here. Nothing by default.
     */
    default void detached() {
    }

    void pause();

    /**
     * Writes the paused VM's whole state (memory, devices, its writable disk) into the empty
     * directory {@code snapshotDir}, for a {@link RestoreState}; the VM stays paused. Engines
     * that can declare {@link Capability#SNAPSHOT}.
     *
     * @throws SmartVmException UNSUPPORTED for an engine that cannot
     */
    default void saveState(Path snapshotDir) {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "this engine cannot save a VM's state");
    }

    /**
     * Writes the paused VM's device state and its writable disk into the directory
     * {@code templateDir}, and its memory into the file of the boot's {@link TemplateMemory}
     * (where an engine that ran the guest in that file writes nothing more): that file is the
     * template's memory from now on. The VM must never run again (clones map the file); the
     * caller makes it quit. Engines that can declare {@link Capability#TEMPLATES}.
     *
     * @throws SmartVmException UNSUPPORTED for an engine that cannot
     */
    default void saveTemplate(Path templateDir) {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "this engine cannot make templates");
    }

    void resume();

    /**
     * Throws when the VMM must not be stopped now, before anything of the stop happens (smolvm
     * keeps the source of its forks frozen, and refuses to stop it while they exist).
     *
     * @throws SmartVmException INVALID_STATE, saying what to do first
     */
    default void checkCanStop() {
    }

    boolean isAlive();

    /** Waits up to {@code timeout} for the VMM to exit; true when it did. */
    boolean awaitExit(Duration timeout);

    /** Asks the VMM to quit now (guest state is lost), then kills it if it lingers. */
    void terminate(Duration grace);

    /** Why the VMM exited, once it did (guest panic, shutdown, crash...). */
    Optional<String> exitReason();

    /** Releases the control connection; the VMM keeps running. Idempotent. */
    @Override
    void close();
}

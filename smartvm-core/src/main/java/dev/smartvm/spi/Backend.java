package dev.smartvm.spi;

import dev.smartvm.BootPlan;
import dev.smartvm.ErrorCode;
import dev.smartvm.HostCheck;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * An engine that runs microVMs. One implementation per engine; all pass the same contract test.
 * A backend is registered under its {@link #name()} ({@code SmartVm.Builder.backend}), and a
 * VM's spec chooses it by that name. The SmartVm it is registered with closes it when it closes.
 */
public interface Backend extends AutoCloseable {
    /** The name a VM's spec chooses it by: lower case letters, digits and dashes. */
    String name();

    /**
     * The engine's version, as a saved state records it: a state is restored only by the same
     * version ("unknown" when it cannot tell).
     */
    default String version() {
        return "unknown";
    }

    /** What it can do beyond booting, running commands and stopping. */
    default Set<Capability> capabilities() {
        return Set.of();
    }

    default boolean has(Capability capability) {
        return capabilities().contains(capability);
    }

    /**
     * The engine's own options in {@code spec}, checked, as extensions of the boot request (see
     * {@link BootRequest#extension}). An engine refuses options that are not its own: the
     * default takes none.
     *
     * @throws SmartVmException INVALID_ARGUMENT for options this engine does not take
     */
    default List<Object> options(VmSpec spec) {
        if (spec.firecrackerConfig() != null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a Firecracker config file needs the firecracker"
                    + " backend; the backend is '" + name() + "'");
        }
        return List.of();
    }

    /**
     * Lets go of what the engine holds for its SmartVm (connections, leases, threads) when that
     * SmartVm closes, after its VMs; the VMs of other processes and detached ones are not touched.
     * Idempotent; nothing by default.
     */
    @Override
    default void close() {
    }

    /** Deletes what the engine keeps of a VM beyond its process (smolvm's machine) once the VM is removed. */
    default void discard(Path vmDir) {
    }

    /**
     * What the engine needs and finds beyond the host's own checks ({@code smartvm doctor --backend
     * NAME}: a cluster, its permissions); none by default. May contact what the engine drives; starts no VM.
     */
    default List<HostCheck> checks() {
        return List.of();
    }

    /** What the engine keeps outside the home that no live owner holds, for {@code smartvm gc}; none by default. */
    default List<EngineLeftover> leftovers() {
        return List.of();
    }

    /**
     * What {@link #launch} would do for {@code request}, done: its command line and API
     * requests. Nothing is started or written.
     *
     * @throws SmartVmException UNSUPPORTED when the engine cannot tell
     */
    default BootPlan plan(BootRequest request) {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "the " + name() + " backend cannot show a plan");
    }

    /** Starts a VMM and returns once its control channel answers (the guest may still be booting). */
    VmmProcess launch(BootRequest request);

    /**
     * Turns the state saved by {@link VmmProcess#saveState} (named by {@code request}'s
     * {@link RestoreState}) into a template in {@code templateDir}, its memory the file of the
     * request's {@link TemplateMemory}. QEMU starts a VMM of {@code request} that loads the state
     * without ever running the guest, saves it as {@link VmmProcess#saveTemplate} does, and
     * quits (while it runs, its pid and start time are in {@code templateDir/vmm.pid});
     * Firecracker only moves the files. How a running VM is forked.
     * Engines that declare {@link Capability#TEMPLATES}.
     *
     * @throws SmartVmException UNSUPPORTED for an engine that cannot
     */
    default void templateFromState(BootRequest request, Path templateDir) {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "the " + name() + " backend cannot make templates");
    }

    /** Re-attaches to a VMM started earlier, possibly by another process. */
    VmmProcess attach(AttachSpec spec);
}

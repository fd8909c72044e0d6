package dev.smartvm.internal.vm;

import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmState;
import dev.smartvm.internal.host.HostProcess;
import dev.smartvm.internal.host.VmmLabel;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.net.NetworkManager;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Cleans up after processes that died: VMs whose owner is gone are removed, starts whose
 * starter died are abandoned, VMMs that died are recorded. {@link #removeLeftovers} is the one
 * removal path, used by {@code rm}, a handle's close and the reaper alike.
 */
public final class Reaper {
    private Reaper() {
    }

    /**
     * Kills and removes VMs whose owning process died without closing them, and stops VMs whose
     * starter died mid-start. Their VMMs are found by the label they carry from their first
     * instant ({@link VmmLabel}), so one whose pid was never recorded is killed too. Another
     * process may be reaping the same VM at the same time: what one of them fails to do, the other did.
     */
    public static void reapOrphans(VmContext context, Consumer<String> notices) {
        for (VmRecord r : context.store().all()) {
            try {
                boolean ownerGone = r.ownerPid() != 0 && !HostProcess.isRunning(r.ownerPid(), r.ownerStartedAt());
                if (ownerGone) {
                    removeLeftovers(context, r);
                } else if (r.state() == VmState.STARTING) {
                    abandonDeadStart(context, r);
                } else if (r.state().isActive() && r.pid() > 0 && !HostProcess.isRunning(r.pid(), r.vmmStartedAt())) {
                    new VmLifecycle(context, r, false).current(); // records why it stopped
                }
            } catch (SmartVmException e) {
                notices.accept("warning: could not clean up VM " + r.name() + ": " + e.getMessage());
            }
        }
    }

    /**
     * Everything a VM left on the host, gone: its VMM (by pid and by label), the engine's own
     * state, its directory and record, and its network (recorded or not: a starter may have died
     * before saving it; given back after the directory, so that an address nobody recorded is
     * given back as a vanished VM's). Idempotent.
     */
    static void removeLeftovers(VmContext context, VmRecord r) {
        killVmm(context, r);
        context.backend(r.spec().backend()).discard(context.store().dir(r.id()));
        context.store().delete(r.id());
        releaseNetwork(context, r);
        VmTemplates.removeIfForkBaseUnused(context, r.spec().template()); // the last child of a fork takes its template along
    }

    /** A VM left STARTING by a process that died (its start lock is free): stopped, its VMM killed, its network given back. */
    private static void abandonDeadStart(VmContext context, VmRecord seen) {
        Optional<LockFile> lock = LockFile.tryAcquire(VmStart.startLock(context.store().dir(seen.id())));
        if (lock.isEmpty()) {
            return; // being started right now
        }
        try (LockFile held = lock.get()) {
            Optional<VmRecord> now = context.store().load(seen.id()); // the starter may have finished just before it let go
            if (now.isEmpty() || now.get().state() != VmState.STARTING) {
                return;
            }
            VmRecord r = now.get();
            killVmm(context, r);
            releaseNetwork(context, r);
            context.store().save(r.stopped("boot abandoned: the process starting it died"));
        }
    }

    /** The VM's VMM, by its recorded pid and by the label every VMM carries (one whose pid was never recorded too). */
    private static void killVmm(VmContext context, VmRecord r) {
        if (r.pid() > 0) {
            HostProcess.kill(r.pid(), r.vmmStartedAt());
        }
        VmmLabel.killAll(context.store().dir(r.id()));
    }

    /** The bridge network a reaped VM held, recorded or, for a start cut short, only planned. */
    private static void releaseNetwork(VmContext context, VmRecord r) {
        if (r.network() != null) {
            context.network().detach(r.id(), r.network().tap(), r.network().ip());
        } else if (r.state() == VmState.STARTING && r.networkMode() == NetworkSpec.Mode.BRIDGE) {
            context.network().detach(r.id(), NetworkManager.generateTapName(r.id(), "eth0"), null);
        }
    }
}

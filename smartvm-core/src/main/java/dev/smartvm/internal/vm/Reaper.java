package dev.smartvm.internal.vm;

import dev.smartvm.Leftover;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmState;
import dev.smartvm.internal.host.HostProcess;
import dev.smartvm.internal.host.VmmLabel;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.io.Sweep;
import dev.smartvm.internal.net.NetworkManager;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
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
        Sweep sweep = new Sweep(false);
        sweepVms(context, sweep, notices);
        for (Leftover l : sweep.leftovers()) {
            if (l.failure() != null) {
                notices.accept("warning: could not clean up VM " + l.name() + ": " + l.failure());
            }
        }
    }

    /**
     * {@link #reapOrphans} as part of a garbage collection: the VMs found (and, unless a dry run,
     * removed or stopped) go to {@code sweep}; VMs whose VMM died are recorded stopped. Returns
     * the ids of the VMs found, whose network goes with them.
     */
    static Set<String> sweepVms(VmContext context, Sweep sweep, Consumer<String> notices) {
        Set<String> found = new HashSet<>();
        for (VmRecord r : context.store().all()) {
            try {
                sweepVm(context, sweep, r, found);
            } catch (SmartVmException e) { // removed by another process meanwhile, say
                notices.accept("warning: could not check VM " + r.name() + ": " + e.getMessage());
            }
        }
        return found;
    }

    private static void sweepVm(VmContext context, Sweep sweep, VmRecord r, Set<String> found) {
        if (ownerGone(r)) {
            found.add(r.id());
            sweep.found(Leftover.Kind.VM, r.name(), "the process that owned it (pid " + r.ownerPid() + ") is gone",
                    () -> removeLeftovers(context, r));
        } else if (r.state() == VmState.STARTING && LockFile.isFree(VmStart.startLock(context.store().dir(r.id())))) {
            found.add(r.id());
            sweep.found(Leftover.Kind.VM, r.name(), "the process starting it died; it is stopped",
                    () -> abandonDeadStart(context, r));
        } else if (!sweep.dryRun() && r.state().isActive() && r.pid() > 0 && !HostProcess.isRunning(r.pid(), r.vmmStartedAt())) {
            new VmLifecycle(context, r, false).current(); // records why it stopped
        }
    }

    /** Whether the VM had an owning process (not detached) that is gone. */
    private static boolean ownerGone(VmRecord r) {
        return r.ownerPid() != 0 && !HostProcess.isRunning(r.ownerPid(), r.ownerStartedAt());
    }

    /**
     * Whether the VM recorded in {@code r} runs: its owner, if any, is alive, and it is being
     * started (its start lock held) or its VMM runs (or is not known: an engine that runs its own).
     */
    static boolean runs(VmRecord r, Path dir) {
        if (ownerGone(r)) {
            return false;
        }
        return switch (r.state()) {
            case STARTING -> !LockFile.isFree(VmStart.startLock(dir));
            case RUNNING, PAUSED, STOPPING -> r.pid() <= 0 || HostProcess.isRunning(r.pid(), r.vmmStartedAt());
            default -> false;
        };
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
        Path dir = context.store().dir(seen.id());
        if (!java.nio.file.Files.isDirectory(dir)) {
            return; // removed meanwhile
        }
        Optional<LockFile> lock;
        try {
            lock = LockFile.tryAcquire(VmStart.startLock(dir));
        } catch (SmartVmException e) {
            if (!java.nio.file.Files.isDirectory(dir)) {
                return; // removed meanwhile
            }
            throw e;
        }
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

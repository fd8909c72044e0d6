package dev.smartvm.internal.vm;

import dev.smartvm.Acceleration;
import dev.smartvm.ErrorCode;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmState;
import dev.smartvm.internal.image.ExecDefaults;
import dev.smartvm.internal.net.HostNetwork;
import dev.smartvm.internal.net.HostnamePins;
import dev.smartvm.spi.AttachSpec;
import dev.smartvm.spi.Guest;
import dev.smartvm.spi.VmmProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One VM's life: its state machine ({@link VmState}, enforced by {@link #transition}), its VMM, guest connection and
 * host network. The monitor guards those fields only: no process, network or file I/O happens while it is held;
 * {@code vm.json} is written by {@link #persist}, which always writes the latest record ({@link VmStore#saveLatest}).
 */
public final class VmLifecycle {
    private static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(20);

    private final VmContext context;
    private final boolean owned;
    private final String id;
    private final Path dir;
    private VmRecord record;
    private VmmProcess vmm;
    private Guest agent;
    private HostnamePins pins;
    private boolean released;
    /** A stop by this handle is under way: it, not {@link #refresh}, gives back what the VM held. */
    private boolean stopping;

    public VmLifecycle(VmContext context, VmRecord record, boolean owned) {
        this.context = context;
        this.record = record;
        this.owned = owned;
        this.id = record.id();
        this.dir = context.store().dir(id);
        if (record.state().isActive() && (record.pid() > 0 || record.state() == VmState.RUNNING)) { // (a remote engine's: no pid)
            this.vmm = context.backend(record.spec().backend()).attach(new AttachSpec(dir, record.pid(), record.vmmStartedAt()));
        }
    }

    public String id() {
        return id;
    }

    public synchronized String name() {
        return record.name();
    }

    public Path consoleLog() {
        return dir.resolve("console.log");
    }

    /** The record, once a VMM that died behind our back is noticed. */
    public VmRecord current() {
        refresh();
        synchronized (this) {
            return record;
        }
    }

    /** The VMM of a running or paused VM, or null. */
    public VmmProcess activeVmm() {
        refresh();
        synchronized (this) {
            return record.state().isActive() && record.state() != VmState.STARTING ? vmm : null;
        }
    }

    /** The one way the state changes: as the state table allows ({@link VmRecord#moveTo}). Caller holds the monitor. */
    private void transition(VmState next, String stopReason) {
        record = record.moveTo(next, stopReason);
    }

    /** Writes the latest record to {@code vm.json} (never while holding the monitor; not once the VM is removed). */
    private void persist() {
        context.store().saveLatest(id, this::snapshot);
    }

    private synchronized VmRecord snapshot() {
        return record;
    }

    private HeldResources takeHeld() {
        HeldResources held = new HeldResources(agent, pins, record.network());
        agent = null;
        pins = null;
        record = record.withNetwork(null);
        return held;
    }

    /** Notices a VMM that died behind our back, and gives back what the VM held. */
    void refresh() {
        VmmProcess process;
        VmState seen;
        synchronized (this) {
            if (vmm == null || stopping || record.state() == VmState.STARTING || !record.state().isActive()) {
                return;
            }
            process = vmm;
            seen = record.state();
        }
        if (process.isAlive()) {
            VmLimits.followSuspension(context, this, seen); // the watchdog's pause, or a wake-up by another process
            return;
        }
        String reason = process.exitReason().orElse("the VMM exited");
        HeldResources held;
        String name;
        synchronized (this) {
            if (vmm != process || stopping || !record.state().isActive()) {
                return; // someone else got there first
            }
            held = takeHeld();
            vmm = null;
            transition(VmState.STOPPED, reason);
            name = record.name();
        }
        process.close();
        held.giveBack(context, id, new SmartVmException(ErrorCode.VM_STOPPED, "VM '" + name + "' stopped: " + reason));
        persist();
    }

    /**
     * Boots the VM and waits for its agent, holding the start lock (a reaper tells a start in
     * progress from a dead one by it); {@code extensions} go to the engine (a {@code RestoreState}).
     */
    public void start(Object... extensions) {
        refresh();
        synchronized (this) {
            record.requireAllowed(VmState.STARTING, "start"); // before the lock file: a removed VM has no directory for it
        }
        new VmStart(this, context, dir, List.of(extensions)).run();
    }

    /** Moves to STARTING; returns the state it was in. */
    VmState beginStart() {
        VmState before;
        synchronized (this) {
            record.requireAllowed(VmState.STARTING, "start");
            before = record.state();
            transition(VmState.STARTING, null);
        }
        persist();
        return before;
    }

    /** The network mode decided at boot, recorded before anything is attached. */
    void recordNetworkMode(NetworkSpec.Mode mode) {
        update(r -> r.withNetworkMode(mode));
    }

    void recordNetwork(HostNetwork.Attachment attachment, HostnamePins hostnamePins) {
        update(r -> {
            pins = hostnamePins;
            return r.withNetwork(attachment);
        });
    }

    void recordVmm(VmmProcess process, Acceleration acceleration, Instant startedAt, ExecDefaults defaults) {
        update(r -> {
            vmm = process;
            return r.withVmm(acceleration, process.pid(), startedAt, defaults);
        });
    }

    void recordRunning(Guest guest) {
        update(r -> {
            agent = guest;
            return r.moveTo(VmState.RUNNING, null);
        });
    }

    /** After a failed boot (its steps undone): back to CREATED if no VMM ever ran, else STOPPED. */
    void recordFailedBoot(VmState before, boolean launched, String reason) {
        VmmProcess failed;
        synchronized (this) {
            failed = vmm;
            vmm = null;
            pins = null;
            record = record.withNetwork(null);
            if (record.state() == VmState.STARTING) { // (a stop or remove meanwhile has moved it on already)
                transition(before == VmState.CREATED && !launched ? VmState.CREATED : VmState.STOPPED, reason);
            }
        }
        if (failed != null) {
            failed.close();
        }
        persist();
    }

    /** The agent of a running VM, connecting to it if another process started the VM. */
    public Guest requireAgent(String action) {
        refresh();
        VmmProcess process;
        String name;
        synchronized (this) {
            if (record.state() != VmState.RUNNING) {
                throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot " + action + " in VM '" + record.name()
                        + "': it is " + record.state().name().toLowerCase()
                        + (record.state() == VmState.PAUSED ? "; resume it first" : "") + record.stopReasonSuffix());
            }
            if (agent != null && agent.isOpen()) {
                return agent;
            }
            process = vmm;
            name = record.name();
        }
        Guest client = GuestLink.connect(process, ATTACH_TIMEOUT, name);
        synchronized (this) {
            if (agent != null && agent.isOpen()) {
                client.close();
                return agent;
            }
            agent = client;
            return client;
        }
    }

    /** Pauses ({@code pause}) or resumes the VM. */
    public void suspend(boolean pause) {
        refresh();
        VmmProcess process;
        Guest guest;
        synchronized (this) {
            if (!pause && record.state() != VmState.PAUSED) {
                record.requireAllowed(VmState.PAUSED, "resume");
                throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot resume VM '" + record.name() + "': it is not paused");
            }
            record.requireAllowed(pause ? VmState.PAUSED : VmState.RUNNING, pause ? "pause" : "resume");
            process = vmm;
            guest = agent;
        }
        if (pause) {
            process.pause();
            update(r -> r.moveTo(VmState.PAUSED, null));
            return;
        }
        process.resume();
        if (guest != null) {
            guest.syncClock(); // its clock stood still while it was paused: set before anything else is asked
        }
        VmLimits.unmarkIdlePause(context, id); // first: a mark left would make it paused again
        update(r -> r.moveTo(VmState.RUNNING, null));
        VmLimits.resumed(context, snapshot());
    }

    /** Records the VM's new egress rules and the pins of their hostnames (null: none); the old pins stop. */
    void egressChanged(NetworkSpec network, HostnamePins next) {
        HostnamePins[] old = new HostnamePins[1];
        update(r -> {
            old[0] = pins;
            pins = next;
            return r.adopted(r.name(), r.spec().toBuilder().network(network).build());
        });
        if (old[0] != null) {
            old[0].close();
        }
    }

    /** Changes the record by {@code change} (a pooled clone's new name and spec), then writes it. */
    void update(UnaryOperator<VmRecord> change) {
        synchronized (this) {
            record = change.apply(record);
        }
        persist();
    }

    /**
     * Stops the VMM (with {@code powerOff}, the guest synced and halted first, the VMM forced after a
     * grace period), even on an interrupted thread; finishes a stop that failed half-way.
     */
    public void stop(boolean powerOff) {
        refresh();
        new VmStop(this).run(powerOff);
    }

    /** Moves to STOPPING (or goes on with a stop that failed half-way). */
    VmStop.Stopping beginStop(boolean powerOff) {
        VmStop.Stopping work;
        synchronized (this) {
            boolean graceful = false;
            if (record.state() != VmState.STOPPING) {
                record.requireAllowed(VmState.STOPPING, "stop");
                graceful = powerOff && record.state() == VmState.RUNNING;
                transition(VmState.STOPPING, null);
            }
            stopping = true;
            work = new VmStop.Stopping(vmm, agent, graceful, record.name());
        }
        persist();
        return work;
    }

    /** The VMM is gone: what the VM held is given back, and it is STOPPED. */
    void finishStop(VmmProcess process) {
        HeldResources held;
        synchronized (this) {
            held = takeHeld();
            vmm = null;
            stopping = false;
            if (record.state() != VmState.STOPPED) {
                transition(VmState.STOPPED, "stopped by request");
            } else {
                record = record.stopped("stopped by request"); // the VMM's exit was noticed first: the reason is ours
            }
        }
        if (process != null) {
            process.close();
        }
        held.giveBack(context, id, null);
        persist();
    }

    /** Lets the VM outlive this process: this handle lets go of it, and nothing stops it when it is closed. */
    public void detach() {
        letGo(true);
    }

    /** Stops the VM hard if it runs (nothing of it survives) and deletes all it left, by the reaper's one removal path. */
    public void remove() {
        if (current().state().isActive()) {
            stop(false);
        }
        context.store().asWriter(id, () -> {
            VmRecord last;
            synchronized (this) {
                if (record.state() == VmState.REMOVED) {
                    return;
                }
                last = record;
                transition(VmState.REMOVED, null);
            }
            Reaper.removeLeftovers(context, last);
        });
        release(); // idempotent
    }

    /** A VM this process made and did not detach is stopped and removed; one found later loses its connections. Idempotent. */
    public void close() {
        boolean ownedNow;
        synchronized (this) {
            ownedNow = owned && record.ownerPid() != 0 && record.state() != VmState.REMOVED;
        }
        if (ownedNow) {
            remove();
            return;
        }
        letGo(false);
    }

    /** This handle lets go of the VM, which runs on: its connections closed; detached, its record says no one owns it. */
    private void letGo(boolean detach) {
        HeldResources held;
        VmmProcess process = null;
        synchronized (this) {
            held = new HeldResources(agent, pins, null); // the VM keeps its network
            agent = null;
            pins = null;
            if (detach) {
                record = record.detached();
                process = vmm;
                vmm = null; // the watcher of this handle stands down: whoever attaches next keeps the record
            }
        }
        if (detach) {
            persist();
        }
        held.giveBack(context, id, null);
        if (process != null) {
            process.detached(); // (only a detach takes the process)
            process.close();
        }
        release();
    }

    private void release() {
        synchronized (this) {
            if (released) {
                return;
            }
            released = true;
        }
        context.released().accept(id);
    }

    @Override
    public synchronized String toString() {
        return "MicroVm[" + record.id() + " " + record.name() + " " + record.state() + "]";
    }
}

package dev.smartvm;

import dev.smartvm.backend.AttachSpec;
import dev.smartvm.backend.Backend;
import dev.smartvm.backend.EngineSpec;
import dev.smartvm.backend.Guest;
import dev.smartvm.backend.HostProcess;
import dev.smartvm.backend.LaunchSpec;
import dev.smartvm.backend.NicSpec;
import dev.smartvm.backend.VmmLabel;
import dev.smartvm.backend.VmmProcess;
import dev.smartvm.backend.firecracker.FirecrackerProcess;
import dev.smartvm.image.ExecDefaults;
import dev.smartvm.image.ImageBundle;
import dev.smartvm.net.EgressPolicy;
import dev.smartvm.net.HostNetwork;
import dev.smartvm.net.HostnamePins;
import dev.smartvm.net.NetworkManager;
import dev.smartvm.net.PortMapping;
import dev.smartvm.internal.LockFile;
import dev.smartvm.internal.TextFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One microVM: its lifecycle (a state machine, see {@link VmState}), commands, files. Locks
 * guard state only; no lock is held while talking to the VMM or the guest.
 */
public final class MicroVm implements AutoCloseable {
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);
    private static final Duration COPY_TIMEOUT = Duration.ofHours(1);
    private static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(20);

    private final VmContext context;
    private final boolean owned;
    private VmRecord record;
    private VmmProcess vmm;
    private Guest agent;
    private HostnamePins pins;
    private boolean released;

    MicroVm(VmContext context, VmRecord record, boolean owned) {
        this.context = context;
        this.record = record;
        this.owned = owned;
        if (record.state().isActive() && record.pid() > 0) {
            this.vmm = context.backend(record.spec().backend()).attach(new AttachSpec(dir(), record.pid(), record.vmmStartedAt()));
        }
    }

    public String id() {
        return record.id();
    }

    public synchronized String name() {
        return record.name();
    }

    public synchronized VmState state() {
        refresh();
        return record.state();
    }

    public synchronized VmInfo info() {
        refresh();
        return new VmInfo(record.id(), record.name(), record.state(), record.spec().backend(), record.acceleration(),
                record.pid(), record.spec(), record.createdAt(), dir(), record.stopReason(), network());
    }

    /** How the VM is connected, from its record. Caller holds the lock. */
    private VmNetwork network() {
        NetworkSpec.Mode mode = record.spec().network().resolvedMode();
        if (mode == null) {
            return null;
        }
        if (context.backend(record.spec().backend()).managesImagesAndNetwork()) {
            return new VmNetwork(null, null, null, null); // the engine's own network: SmartVM knows no more of it
        }
        HostNetwork.Attachment a = record.network();
        if (a != null) {
            return new VmNetwork(mode, a.ip(), a.mac(), a.tap());
        }
        boolean up = record.state().isActive() && record.state() != VmState.STARTING;
        return mode == NetworkSpec.Mode.USER && up
                ? new VmNetwork(mode, VmNetwork.USER_MODE_ADDRESS, NetworkManager.generateMac(record.id(), "eth0"), null)
                : new VmNetwork(mode, null, null, null);
    }

    /** The guest's serial console output of the current or last boot. */
    public Path consoleLog() {
        return dir().resolve("console.log");
    }

    private Path dir() {
        return context.store().dir(record.id());
    }

    /** Notices a VMM that died behind our back. Caller holds the lock. */
    private void refresh() {
        if (record.state().isActive() && record.state() != VmState.STARTING && vmm != null && !vmm.isAlive()) {
            String reason = vmm.exitReason().orElse("the VMM exited");
            releaseNetwork();
            moveTo(VmState.STOPPED, reason);
            if (agent != null) {
                agent.close(new SmartVmException(ErrorCode.VM_STOPPED, "VM '" + record.name() + "' stopped: " + reason));
                agent = null;
            }
        }
    }

    /** Gives back the TAP, address and rules the VM held while it ran. Caller holds the lock. */
    private void releaseNetwork() {
        stopPins();
        HostNetwork.Attachment n = record.network();
        if (n != null) {
            uninterruptibly(() -> context.network().detach(record.id(), n.tap(), n.ip()));
            record = record.withNetwork(null);
            context.store().save(record);
        }
    }

    private void moveTo(VmState next, String stopReason) {
        record = next == VmState.STOPPED ? record.stopped(stopReason) : record.withState(next);
        context.store().save(record);
    }

    private void requireTransition(VmState next, String action) {
        refresh();
        if (!record.state().canMoveTo(next)) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot " + action + " VM '" + record.name()
                    + "': it is " + record.state().name().toLowerCase()
                    + (record.stopReason() != null && record.state() == VmState.STOPPED ? " (" + record.stopReason() + ")" : ""));
        }
    }

    /**
     * Boots the VM and waits for its guest agent. The starter holds the VM's start lock
     * throughout, so that a reaper can tell a start in progress from one whose process died.
     */
    public MicroVm start() {
        synchronized (this) {
            requireTransition(VmState.STARTING, "start"); // before the lock file: a removed VM has no directory for it
        }
        LockFile starting = LockFile.tryAcquire(startLock(dir())).orElseThrow(() -> new SmartVmException(
                ErrorCode.INVALID_STATE, "cannot start VM '" + record.name() + "': another process is starting it"));
        try (starting) {
            return startHoldingLock();
        }
    }

    /** Held by whoever is starting the VM in {@code vmDir}; free once it is done, or dead. */
    static Path startLock(Path vmDir) {
        return vmDir.resolve("start.lock");
    }

    private MicroVm startHoldingLock() {
        VmState before;
        synchronized (this) {
            requireTransition(VmState.STARTING, "start");
            before = record.state();
            moveTo(VmState.STARTING, null);
        }
        VmmProcess started = null;
        LockFile admitted = null;
        try {
            Backend backend = context.backend(record.spec().backend());
            boolean engineManaged = backend.managesImagesAndNetwork();
            ImageBundle image = engineManaged ? null : context.images().resolve(record.spec().image());
            Acceleration accel = context.acceleration(backend, record.spec().acceleration());
            deleteIfExists(consoleLog());
            // Held from the count of what runs until this VMM runs (labelled) too: one place, one taker.
            admitted = engineManaged ? null : context.admission().admit(record.name(), record.spec().cpus(),
                    record.spec().memoryMib());
            NicSpec nic = null;
            EngineSpec engine = null;
            NetworkSpec net = record.spec().network();
            if (engineManaged) {
                engine = new EngineSpec(record.spec().image(), net.enabled(), net.allow(), net.deny(), net.publish());
            } else if (net.resolvedMode() == NetworkSpec.Mode.USER) {
                nic = new NicSpec(null, NetworkManager.generateMac(record.id(), "eth0"),
                        "ip=" + VmNetwork.USER_MODE_ADDRESS + "::10.0.2.2:255.255.255.0::eth0:off",
                        net.publish().stream().map(PortMapping::parse).toList());
            } else if (net.enabled()) {
                EgressPolicy policy = EgressPolicy.parse(net.allow(), net.deny(), context.resolver());
                HostNetwork.Attachment attachment = context.network().attach(record.id(), dir(), policy,
                        net.publish().stream().map(PortMapping::parse).toList());
                synchronized (this) {
                    record = record.withNetwork(attachment);
                    context.store().save(record);
                    if (policy.hasHostnames()) {
                        pins = context.pinHostnames(record.id(), policy);
                    }
                }
                nic = new NicSpec(attachment.tap(), attachment.mac(), attachment.bootArgs());
            }
            started = backend.launch(new LaunchSpec(record.id(), dir(), image, record.spec().cpus(),
                    record.spec().memoryMib(), accel, record.spec().firecrackerConfig(), nic, engine));
            if (admitted != null) {
                admitted.close();
            }
            VmmProcess launched = started;
            synchronized (this) {
                vmm = launched;
                record = record.withVmm(accel, launched.pid(), HostProcess.startTime(launched.pid()).orElse(null),
                        image == null ? ExecDefaults.NONE : image.defaults());
                context.store().save(record);
            }
            Guest client = GuestLink.connect(launched, record.spec().bootTimeout(), record.name());
            synchronized (this) {
                agent = client;
                moveTo(VmState.RUNNING, null);
            }
            VmWatcher.watch(launched, consoleLog(), record.id(), () -> {
                synchronized (this) {
                    if (vmm == launched) {
                        refresh();
                    }
                }
            });
            return this;
        } catch (SmartVmException e) {
            String console = String.join("\n", TextFiles.tail(consoleLog(), 15));
            if (started != null) {
                VmmProcess failed = started;
                uninterruptibly(() -> failed.terminate(Duration.ofSeconds(2)));
            }
            synchronized (this) {
                vmm = null;
                releaseNetwork();
                if (before == VmState.CREATED && started == null) {
                    moveTo(VmState.CREATED, null);
                } else {
                    moveTo(VmState.STOPPED, "boot failed: " + e.getMessage());
                }
            }
            if (started == null) {
                throw e;
            }
            throw new SmartVmException(ErrorCode.BOOT_FAILED, "VM '" + record.name() + "' did not boot: " + e.getMessage()
                    + (console.isEmpty() ? "" : "\n--- last console lines ---\n" + console), e);
        } finally {
            if (admitted != null) {
                admitted.close(); // idempotent: usually closed once the VMM was launched
            }
        }
    }

    /** The agent of a running VM, connecting to it if another process started the VM. */
    private Guest requireAgent(String action) {
        VmmProcess process;
        synchronized (this) {
            refresh();
            if (record.state() != VmState.RUNNING) {
                throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot " + action + " in VM '" + record.name()
                        + "': it is " + record.state().name().toLowerCase()
                        + (record.state() == VmState.PAUSED ? "; resume it first" : "")
                        + (record.stopReason() != null && record.state() == VmState.STOPPED ? " (" + record.stopReason() + ")" : ""));
            }
            if (agent != null && agent.isOpen()) {
                return agent;
            }
            process = vmm;
        }
        Guest client = GuestLink.connect(process, ATTACH_TIMEOUT, record.name());
        synchronized (this) {
            if (agent != null && agent.isOpen()) {
                client.close();
                return agent;
            }
            agent = client;
            return client;
        }
    }

    /** Runs a command and collects its output. */
    public ExecResult exec(String... command) {
        return exec(ExecRequest.of(command));
    }

    public ExecResult exec(ExecRequest request) {
        return requireAgent("exec").run(withDefaults(request));
    }

    /** Runs a command, forwarding its output to the given streams as it arrives. */
    public ExitStatus exec(ExecRequest request, OutputStream stdout, OutputStream stderr) {
        ExecProcess p = requireAgent("exec").start(withDefaults(request), false, stdout, stderr);
        try (p) {
            return p.waitFor(Duration.ofDays(3650));
        }
    }

    /** Starts a command with open stdin and its output as streams; close it when done. */
    public ExecProcess spawn(ExecRequest request) {
        return requireAgent("exec").start(withDefaults(request), true, null, null);
    }

    /** The request, completed by the VM's spec and then by its image: the request wins, then the spec, then the image. */
    private ExecRequest withDefaults(ExecRequest r) {
        VmSpec spec = record.spec();
        ExecDefaults image = record.imageDefaults();
        Map<String, String> env = new LinkedHashMap<>(image.env());
        env.putAll(spec.env());
        env.putAll(r.env());
        String workdir = r.workdir() != null ? r.workdir() : spec.workdir() != null ? spec.workdir() : image.workdir();
        return new ExecRequest(r.command(), env, workdir, r.timeout() != null ? r.timeout() : spec.defaultTimeout(), r.stdin(),
                r.uid() != -1 ? r.uid() : image.uid());
    }

    /** The image's default command (an OCI image's Entrypoint and Cmd), empty when it has none. */
    public synchronized java.util.List<String> imageCommand() {
        return record.imageDefaults().command();
    }

    /**
     * The Firecracker process of a running or paused VM of the {@code firecracker} backend, for
     * what only Firecracker has: instance info, snapshots, the balloon, metrics.
     *
     * @throws SmartVmException NO_CLIENT when no Firecracker runs for this VM (never started,
     *     or stopped); INVALID_ARGUMENT for a VM of another backend
     */
    public synchronized FirecrackerProcess firecracker() {
        if (!record.spec().backend().equals("firecracker")) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "VM '" + record.name() + "' runs on "
                    + record.spec().backend() + ", not firecracker");
        }
        refresh();
        if (!(vmm instanceof FirecrackerProcess fc) || !record.state().isActive() || record.state() == VmState.STARTING) {
            throw new SmartVmException(ErrorCode.NO_CLIENT, "VM '" + record.name() + "' has no Firecracker process (it is "
                    + record.state().name().toLowerCase() + "); start it first");
        }
        return fc;
    }

    /** A protocol round trip to the guest agent (no process is started). */
    public Duration ping() {
        return requireAgent("ping").ping(Duration.ofSeconds(30));
    }

    /** Copies a host file or directory into the guest ({@code cp -r} semantics); returns bytes copied. */
    public long copyTo(Path hostPath, String guestPath) {
        return requireAgent("copy").upload(hostPath, guestPath, COPY_TIMEOUT);
    }

    /** Copies a guest file or directory to the host ({@code cp -r} semantics); returns bytes copied. */
    public long copyFrom(String guestPath, Path hostPath) {
        return requireAgent("copy").download(guestPath, hostPath, COPY_TIMEOUT);
    }

    public void pause() {
        VmmProcess process;
        synchronized (this) {
            requireTransition(VmState.PAUSED, "pause");
            process = vmm;
        }
        process.pause();
        synchronized (this) {
            moveTo(VmState.PAUSED, null);
        }
    }

    public void resume() {
        VmmProcess process;
        synchronized (this) {
            if (record.state() != VmState.PAUSED) {
                requireTransition(VmState.PAUSED, "resume");
                throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot resume VM '" + record.name() + "': it is not paused");
            }
            process = vmm;
        }
        process.resume();
        synchronized (this) {
            moveTo(VmState.RUNNING, null);
        }
    }

    /**
     * Powers the guest off (the agent syncs and halts it), forcing the VMM down after a grace
     * period. Finishes even on an interrupted thread, and finishes a stop that failed half-way.
     */
    public void stop() {
        stop(true);
    }

    private void stop(boolean powerOff) {
        VmmProcess process;
        Guest client;
        boolean graceful;
        synchronized (this) {
            refresh();
            if (record.state() != VmState.STOPPING) {
                requireTransition(VmState.STOPPING, "stop");
            }
            graceful = powerOff && record.state() == VmState.RUNNING;
            process = vmm;
            client = agent;
            moveTo(VmState.STOPPING, null);
        }
        uninterruptibly(() -> {
            try {
                if (process != null) {
                    if (graceful) {
                        askToPowerOff(process, client);
                    }
                    if (!graceful || !process.awaitExit(SHUTDOWN_GRACE)) {
                        process.terminate(Duration.ofSeconds(2));
                    }
                }
            } finally {
                synchronized (this) {
                    closeAgent();
                    if (process != null) {
                        process.close();
                    }
                    vmm = null;
                    releaseNetwork();
                    moveTo(VmState.STOPPED, "stopped by request");
                    deleteIfExists(dir().resolve("agent.sock"));
                    deleteIfExists(dir().resolve("qmp.sock"));
                }
            }
        });
    }

    private void askToPowerOff(VmmProcess process, Guest client) {
        try {
            (client != null && client.isOpen() ? client : GuestLink.connect(process, Duration.ofSeconds(5), record.name())).shutdown();
        } catch (SmartVmException e) {
            // no agent to ask: the VMM is stopped the hard way
        }
    }

    /** Cleanup must complete even when the caller was interrupted: the flag is set aside, then restored. */
    private static void uninterruptibly(Runnable cleanup) {
        boolean interrupted = Thread.interrupted();
        try {
            cleanup.run();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Lets the VM outlive this process: closing the SmartVm or this handle no longer stops it.
     * Use {@code smartvm stop/rm} or {@link SmartVm#get} later.
     */
    public synchronized void detach() {
        stopPins();
        record = record.detached();
        context.store().save(record);
        closeAgent();
        if (vmm != null) {
            vmm.close();
            vmm = null; // the watcher of this handle stands down: whoever attaches next keeps the record
        }
        release();
    }

    /**
     * Stops the VM if it runs and deletes everything it left on disk. Nothing of a removed VM
     * survives (its disks are copy-on-write snapshots), so QEMU is told to quit at once rather
     * than waiting for the guest to power off.
     */
    public void remove() {
        if (state().isActive()) {
            stop(false);
        }
        VmmLabel.killAll(dir()); // a VMM no record names (its starter died before saving its pid) goes too
        synchronized (this) {
            if (record.state() == VmState.REMOVED) {
                return;
            }
            context.backend(record.spec().backend()).discard(dir());
            context.store().delete(record.id());
            record = record.withState(VmState.REMOVED);
            release();
        }
    }

    /**
     * A VM this process made and did not detach is stopped and removed. A VM found with
     * {@link SmartVm#get} only loses its connections. Idempotent.
     */
    @Override
    public void close() {
        boolean ownedNow;
        synchronized (this) {
            ownedNow = owned && record.ownerPid() != 0 && record.state() != VmState.REMOVED;
        }
        if (ownedNow) {
            remove();
        } else {
            synchronized (this) {
                stopPins();
                closeAgent();
                release();
            }
        }
    }

    /** Stops re-resolving the VM's hostnames. Caller holds the lock. */
    private void stopPins() {
        if (pins != null) {
            pins.close();
            pins = null;
        }
    }

    private void closeAgent() {
        if (agent != null) {
            agent.close();
            agent = null;
        }
    }

    private void release() {
        if (!released) {
            released = true;
            context.released().accept(this);
        }
    }

    private static void deleteIfExists(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a stale socket or log is recreated by the next boot
        }
    }

    @Override
    public String toString() {
        return "MicroVm[" + record.id() + " " + record.name() + " " + record.state() + "]";
    }
}

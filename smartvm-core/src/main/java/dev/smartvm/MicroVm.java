package dev.smartvm;

import dev.smartvm.firecracker.FirecrackerVm;
import dev.smartvm.internal.image.ExecDefaults;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.vm.VmContext;
import dev.smartvm.internal.vm.VmEgress;
import dev.smartvm.internal.vm.VmInfos;
import dev.smartvm.internal.vm.VmLifecycle;
import dev.smartvm.internal.vm.VmLimits;
import dev.smartvm.internal.vm.VmRecord;
import dev.smartvm.internal.vm.VmSnapshots;
import dev.smartvm.internal.vm.VmUsage;
import dev.smartvm.spi.Guest;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One microVM: its lifecycle (a state machine, see {@link VmState}), commands, files. Thread-safe;
 * no lock is held while talking to the VMM or the guest.
 */
public final class MicroVm implements AutoCloseable {
    private static final Duration COPY_TIMEOUT = Duration.ofHours(1);

    private final VmLifecycle life;
    private final VmContext context;
    private final SmartVm owner;
    private final VmUsage usage = new VmUsage();

    MicroVm(VmLifecycle life, VmContext context, SmartVm owner) {
        this.life = life;
        this.context = context;
        this.owner = owner;
    }

    public String id() {
        return life.id();
    }

    public String name() {
        return life.name();
    }

    public VmState state() {
        return life.current().state();
    }

    public VmInfo info() {
        return VmInfos.info(context, life.current());
    }

    /** The guest's serial console output of the current or last boot. */
    public Path consoleLog() {
        return life.consoleLog();
    }

    /**
     * Boots the VM and waits for its guest agent. A boot is a series of named steps (resolve
     * image, decide acceleration, plan network, admit, attach network, launch VMM, connect guest,
     * watch); when one fails, what the steps before it made is undone and the error names it.
     */
    public MicroVm start() {
        life.start();
        return this;
    }

    /** Starts it with extensions of the boot request for its engine (a saved state to restore). */
    MicroVm startWith(Object... extensions) {
        life.start(extensions);
        return this;
    }

    /**
     * Saves this running or paused VM as snapshot {@code name} ({@link SmartVm#restore} starts
     * new VMs from it): its memory, devices and disk. A running VM is paused while it is saved
     * and resumes afterwards. A snapshot is written whole or not at all.
     *
     * @throws SmartVmException INVALID_STATE when the VM is not running or paused; NAME_IN_USE;
     *     UNSUPPORTED for an engine that cannot save, or a VM with a network (not yet)
     */
    public SnapshotInfo snapshot(String name) {
        return VmSnapshots.take(life, context, name);
    }

    /**
     * Forks this running or paused VM: {@code n} children (1 to 64) continue from its exact
     * state (processes, memory, files), each a VM of its own (id, name, disk) that runs at once;
     * the source is paused only while its state is saved, and goes on. The children share the
     * memory none of them writes (a template, {@code <vm>-fork-<hex>}, removed with the last of
     * them). Whatever fails, no child is left.
     *
     * @throws SmartVmException INVALID_STATE when the VM is not running or paused;
     *     INVALID_ARGUMENT for n outside 1..64; UNSUPPORTED for an engine without templates
     *     (only qemu forks), or a VM with a network (not yet)
     */
    public List<MicroVm> fork(int n) {
        return owner.fork(life, n);
    }

    /** Runs a command and collects its output. */
    public ExecResult exec(String... command) {
        return exec(ExecRequest.of(command));
    }

    public ExecResult exec(ExecRequest request) {
        return agent("exec").run(withDefaults(request));
    }

    /** Runs a command, forwarding its output to the given streams as it arrives. */
    public ExitStatus exec(ExecRequest request, OutputStream stdout, OutputStream stderr) {
        ExecProcess p = agent("exec").start(withDefaults(request), false, stdout, stderr);
        try (p) {
            return p.waitFor(Duration.ofDays(3650));
        }
    }

    /** Starts a command with open stdin and its output as streams; close it when done. */
    public ExecProcess spawn(ExecRequest request) {
        return agent("exec").start(withDefaults(request), true, null, null);
    }

    /** The agent, for a call of the user's: activity, which wakes a VM the watchdog paused for idleness. */
    private Guest agent(String action) {
        VmLimits.beforeCall(context, life);
        return life.requireAgent(action);
    }

    /** The request, completed by the VM's spec and then by its image: the request wins, then the spec, then the image. */
    private ExecRequest withDefaults(ExecRequest r) {
        VmRecord record = life.current();
        VmSpec spec = record.spec();
        ExecDefaults image = record.imageDefaults();
        Map<String, String> env = new LinkedHashMap<>(image.env());
        env.putAll(spec.env());
        env.putAll(r.env());
        String workdir = r.workdir() != null ? r.workdir() : spec.workdir() != null ? spec.workdir() : image.workdir();
        return new ExecRequest(r.command(), env, workdir, r.timeout() != null ? r.timeout() : spec.defaultTimeout(), r.stdin(),
                r.uid() != -1 ? r.uid() : image.uid(), r.pty());
    }

    /** The image's default command (an OCI image's Entrypoint and Cmd), empty when it has none. */
    public List<String> imageCommand() {
        return life.current().imageDefaults().command();
    }

    /**
     * What only Firecracker has (instance info, snapshots, the balloon, metrics), for a running
     * or paused VM of the {@code firecracker} backend.
     *
     * @throws SmartVmException NO_CLIENT when no VMM runs for this VM (never started, or
     *     stopped); INVALID_ARGUMENT when its engine is not Firecracker
     */
    public FirecrackerVm firecracker() {
        Object vmm = life.activeVmm();
        if (vmm == null) {
            throw new SmartVmException(ErrorCode.NO_CLIENT, "VM '" + name() + "' has no running VMM (it is "
                    + state().name().toLowerCase() + "); start it first");
        }
        if (!(vmm instanceof FirecrackerVm fc)) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "VM '" + name() + "' runs on "
                    + life.current().spec().backend() + ", not firecracker");
        }
        return fc;
    }

    /**
     * What the running or paused VM uses now: vCPU time and CPU %, its guest's memory (from the
     * agent), its VMM's resident memory, its writable disk, its network traffic. CPU % covers the
     * time since this handle's previous call, or a 250 ms sample on the first.
     *
     * @throws SmartVmException INVALID_STATE when the VM is not running or paused
     */
    public VmStats stats() {
        return usage.sample(life, CommandRunner.system());
    }

    /**
     * Ends the running or paused VM's lifetime {@code ttl} from now, whatever it was (none too):
     * it is removed then, or stopped if its spec says {@link TimeLimits.OnTtl#STOP}; enforced by
     * SmartVM's watchdog process, also after this program exits.
     *
     * @return when its lifetime ends
     * @throws SmartVmException INVALID_ARGUMENT for a TTL not longer than zero; INVALID_STATE unless it runs or is paused
     */
    public Instant setTtl(Duration ttl) {
        return VmLimits.setTtl(context, life, ttl);
    }

    /** A protocol round trip to the guest agent (no process is started). */
    public Duration ping() {
        return agent("ping").ping(Duration.ofSeconds(30));
    }

    /**
     * The guest's files: read and write bytes and strings, list, stat, mkdir -p, remove, rename,
     * exists, and watch a directory for changes. Each call needs the VM running (VM_STOPPED or
     * INVALID_STATE otherwise); UNSUPPORTED on smolvm.
     */
    public GuestFiles files() {
        return new VmFiles(() -> agent("use files").files());
    }

    /** Copies a host file or directory into the guest ({@code cp -r} semantics); returns bytes copied. */
    public long copyTo(Path hostPath, String guestPath) {
        return agent("copy").upload(hostPath, guestPath, COPY_TIMEOUT);
    }

    /** Copies a guest file or directory to the host ({@code cp -r} semantics); returns bytes copied. */
    public long copyFrom(String guestPath, Path hostPath) {
        return agent("copy").download(guestPath, hostPath, COPY_TIMEOUT);
    }

    public void pause() {
        life.suspend(true);
    }

    public void resume() {
        life.suspend(false);
    }

    /**
     * Replaces the egress rules of this running (or paused) VM on the bridge, as
     * {@link NetworkSpec} takes them, in one nft transaction: connections open to an address the
     * new rules deny stop working, new ones follow the new rules, and hostname rules are kept
     * resolved (by this handle's process, as at start). The VM keeps them when it restarts.
     *
     * @throws SmartVmException INVALID_ARGUMENT for a bad rule (nothing changed); INVALID_STATE
     *     when the VM is not running or has no bridge network; UNSUPPORTED on smolvm
     */
    public void updateEgress(List<String> allow, List<String> deny) {
        VmEgress.update(context, life, List.copyOf(allow), List.copyOf(deny));
    }

    /**
     * Powers the guest off (the agent syncs and halts it), forcing the VMM down after a grace
     * period. Finishes even on an interrupted thread, and finishes a stop that failed half-way.
     */
    public void stop() {
        life.stop(true);
    }

    /**
     * Lets the VM outlive this process: closing the SmartVm or this handle no longer stops it.
     * Use {@code smartvm stop/rm} or {@link SmartVm#get} later.
     */
    public void detach() {
        life.detach();
    }

    /**
     * Stops the VM if it runs and deletes everything it left on disk. Nothing of a removed VM
     * survives (its disks are copy-on-write snapshots), so its VMM is told to quit at once rather
     * than waiting for the guest to power off.
     */
    public void remove() {
        life.remove();
    }

    /**
     * A VM this process made and did not detach is stopped and removed. A VM found with
     * {@link SmartVm#get} only loses its connections. Idempotent.
     */
    @Override
    public void close() {
        life.close();
    }

    @Override
    public String toString() {
        return life.toString();
    }
}

package dev.smartvm.internal.vm;

import dev.smartvm.Acceleration;
import dev.smartvm.ErrorCode;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmState;
import dev.smartvm.internal.host.HostProcess;
import dev.smartvm.internal.image.ExecDefaults;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.io.TextFiles;
import dev.smartvm.internal.net.HostNetwork;
import dev.smartvm.internal.net.HostnamePins;
import dev.smartvm.spi.VmmProcess;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * One start of a VM: its start lock held throughout, the boot's steps run ({@link VmBooter}),
 * each thing they make recorded as it is made, and the outcome recorded: RUNNING, or after a
 * failed step (whose predecessors are undone) CREATED or STOPPED with an error naming the step.
 */
final class VmStart implements VmBooter.Progress {
    /** Causes a launched VMM's failure keeps as its code: they say what to change, where "did not boot" does not. */
    private static final Set<ErrorCode> SAID_AFTER_LAUNCH = EnumSet.of(ErrorCode.IMAGE_NOT_FOUND,
            ErrorCode.HOST_OVERCOMMITTED, ErrorCode.PERMISSION_DENIED);

    private final VmLifecycle life;
    private final VmContext context;
    private final Path dir;
    private final List<Object> extensions;
    private volatile boolean launched;
    /** How long a start waits for its lock before it takes the holder for another start. */
    private static final java.time.Duration REAPER_CHECK = java.time.Duration.ofSeconds(2);

    VmStart(VmLifecycle life, VmContext context, Path dir, List<Object> extensions) {
        this.life = life;
        this.context = context;
        this.dir = dir;
        this.extensions = extensions;
    }

    /** Held by whoever is starting the VM in {@code vmDir}; free once it is done, or dead. */
    static Path startLock(Path vmDir) {
        return vmDir.resolve("start.lock");
    }

    void run() {
        try (LockFile starting = acquireStartLock()) {
            runHoldingLock();
        }
    }

    /**
     * The start lock. A reaper in another process holds it for a moment while it checks whether a
     * VM it saw STARTING was abandoned (a start that failed and is being retried looks like one):
     * that is waited out; a lock held longer is another start.
     */
    private LockFile acquireStartLock() {
        return LockFile.tryAcquire(startLock(dir), REAPER_CHECK).orElseThrow(() -> new SmartVmException(
                ErrorCode.INVALID_STATE, "cannot start VM '" + life.name() + "': another process is starting it"));
    }

    private void runHoldingLock() {
        VmState before = life.beginStart();
        try {
            List<Object> asked = new java.util.ArrayList<>(extensions);
            VmTemplates.firstStart(context, life.current(), before).ifPresent(asked::add);
            VmBooter.Booted booted = new VmBooter(context, life.current(), dir).boot(this, life::refresh, asked);
            VmLimits.started(context, life.current());
            life.recordRunning(booted.guest());
        } catch (Boot.StepFailed f) {
            SmartVmException e = f.failure();
            life.recordFailedBoot(before, launched, "boot failed: " + e.getMessage());
            String what = f.step() + " failed: " + e.getMessage();
            if (!launched) {
                throw new SmartVmException(e.code(), "cannot start VM '" + life.name() + "': " + what, e);
            }
            String console = String.join("\n", TextFiles.tail(life.consoleLog(), 15));
            // an engine that pulls its images and places its VMs (Kubernetes) learns these only once launched
            ErrorCode code = SAID_AFTER_LAUNCH.contains(e.code()) ? e.code() : ErrorCode.BOOT_FAILED;
            throw new SmartVmException(code, "VM '" + life.name() + "' did not boot: " + what
                    + (console.isEmpty() ? "" : "\n--- last console lines ---\n" + console), e);
        } catch (RuntimeException | Error e) {
            life.recordFailedBoot(before, launched, "boot failed: " + e);
            throw e;
        }
    }

    @Override
    public void networkPlanned(NetworkSpec.Mode mode) {
        life.recordNetworkMode(mode);
    }

    @Override
    public void networkAttached(HostNetwork.Attachment attachment, HostnamePins pins) {
        life.recordNetwork(attachment, pins);
    }

    @Override
    public void networkDetached() {
        life.recordNetwork(null, null);
    }

    @Override
    public void vmmLaunched(VmmProcess vmm, Acceleration acceleration, ExecDefaults defaults) {
        launched = true;
        life.recordVmm(vmm, acceleration, HostProcess.startTime(vmm.pid()).orElse(null), defaults);
    }
}

package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.SnapshotInfo;
import dev.smartvm.VmSpec;
import dev.smartvm.VmState;
import dev.smartvm.internal.snapshot.SavedStore;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.Capability;
import dev.smartvm.spi.VmmProcess;
import java.time.Instant;

/** Saving a VM: paused while its engine writes its state, resumed afterwards if it was running. */
public final class VmSnapshots {
    private VmSnapshots() {
    }

    /**
     * Saves the running or paused VM of {@code life} as snapshot {@code name}.
     *
     * @throws SmartVmException INVALID_STATE for a VM that is not running or paused; UNSUPPORTED
     *     for an engine that cannot save; NAME_IN_USE
     */
    public static SnapshotInfo take(VmLifecycle life, VmContext context, String name) {
        VmRecord r = life.current();
        if (r.state() != VmState.RUNNING && r.state() != VmState.PAUSED) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot snapshot VM '" + r.name() + "': it is "
                    + r.state().name().toLowerCase() + "; only a running or paused VM has a state to save");
        }
        Backend backend = context.backendThatCan(r.spec().backend(), Capability.SNAPSHOT, "save a VM's state");
        SavedStore<SnapshotInfo> store = context.snapshots();
        try (SavedStore<SnapshotInfo>.Partial partial = store.begin(name)) {
            saveWhilePaused(life, partial.dir());
            return partial.commit((size, at) -> new SnapshotInfo(name, r.name(), backend.name(), backend.version(),
                    r.acceleration(), r.spec(), Instant.now(), size, at));
        }
    }

    /**
     * Writes the VM's whole state ({@link VmmProcess#saveState}) into {@code dir}: a running VM
     * is paused meanwhile, and resumes afterwards, whether the save worked or not.
     */
    static void saveWhilePaused(VmLifecycle life, java.nio.file.Path dir) {
        boolean wasRunning = life.current().state() == VmState.RUNNING;
        if (wasRunning) {
            life.suspend(true);
        }
        try {
            VmmProcess vmm = life.activeVmm();
            if (vmm == null) {
                throw new SmartVmException(ErrorCode.VM_STOPPED, "VM '" + life.name() + "' stopped while it was saved");
            }
            vmm.saveState(dir);
        } catch (RuntimeException e) {
            if (wasRunning) {
                resumeAfterFailure(life, e);
            }
            throw e;
        }
        if (wasRunning) {
            life.suspend(false);
        }
    }

    /**
     * The spec of a VM restored from {@code s} under {@code name}: the saved VM's, on the
     * acceleration it ran on.
     *
     * @throws SmartVmException UNSUPPORTED when this host's engine version is not the snapshot's
     */
    public static VmSpec restoredSpec(VmContext context, SnapshotInfo s, String name) {
        Backend backend = context.backend(s.backend());
        if (!backend.version().equals(s.engineVersion())) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "snapshot " + s.name() + " was saved by " + s.engineVersion()
                    + "; this host has " + backend.version() + ": restore it where it was made");
        }
        return s.spec().toBuilder().name(name).acceleration(s.acceleration()).template(null).build();
    }

    private static void resumeAfterFailure(VmLifecycle life, RuntimeException failure) {
        try {
            life.suspend(false);
        } catch (SmartVmException e) {
            failure.addSuppressed(e); // it died meanwhile: the save's failure says more
        }
    }
}

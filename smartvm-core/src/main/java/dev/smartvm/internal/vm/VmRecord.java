package dev.smartvm.internal.vm;

import dev.smartvm.Acceleration;
import dev.smartvm.ErrorCode;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import dev.smartvm.VmState;
import dev.smartvm.internal.image.ExecDefaults;
import dev.smartvm.internal.net.HostNetwork;
import java.time.Instant;

/**
 * What is persisted of a VM in {@code vms/<id>/vm.json}, so that another process (the CLI)
 * can find, drive and clean it up.
 *
 * @param ownerPid the process whose SmartVm made it and stops it on close; 0 once detached
 * @param imageDefaults what every exec inherits from the image it last booted (an OCI config)
 * @param network the host network it holds while it runs (TAP, address), or null
 * @param networkMode how it was connected when it last booted (decided then, once), or null
 */
public record VmRecord(
        String id, String name, VmSpec spec, VmState state, Acceleration acceleration, long pid,
        Instant vmmStartedAt, Instant createdAt, long ownerPid, Instant ownerStartedAt, String stopReason,
        ExecDefaults imageDefaults, HostNetwork.Attachment network, NetworkSpec.Mode networkMode) {
    public VmRecord {
        imageDefaults = imageDefaults == null ? ExecDefaults.NONE : imageDefaults;
    }

    public VmRecord withState(VmState next) {
        return new VmRecord(id, name, spec, next, acceleration, pid, vmmStartedAt, createdAt, ownerPid,
                ownerStartedAt, stopReason, imageDefaults, network, networkMode);
    }

    public VmRecord withVmm(Acceleration accel, long vmmPid, Instant startedAt, ExecDefaults defaults) {
        return new VmRecord(id, name, spec, state, accel, vmmPid, startedAt, createdAt, ownerPid, ownerStartedAt, null, defaults,
                network, networkMode);
    }

    public VmRecord withNetwork(HostNetwork.Attachment attachment) {
        return new VmRecord(id, name, spec, state, acceleration, pid, vmmStartedAt, createdAt, ownerPid, ownerStartedAt,
                stopReason, imageDefaults, attachment, networkMode);
    }

    public VmRecord stopped(String reason) {
        return new VmRecord(id, name, spec, VmState.STOPPED, acceleration, -1, null, createdAt, ownerPid,
                ownerStartedAt, reason, imageDefaults, null, networkMode);
    }

    public VmRecord withNetworkMode(NetworkSpec.Mode mode) {
        return new VmRecord(id, name, spec, state, acceleration, pid, vmmStartedAt, createdAt, ownerPid, ownerStartedAt,
                stopReason, imageDefaults, network, mode);
    }

    /** This record under another name and spec (a pooled clone handed out). */
    public VmRecord adopted(String newName, VmSpec newSpec) {
        return new VmRecord(id, newName, newSpec, state, acceleration, pid, vmmStartedAt, createdAt, ownerPid, ownerStartedAt,
                stopReason, imageDefaults, network, networkMode);
    }

    public VmRecord detached() {
        return new VmRecord(id, name, spec, state, acceleration, pid, vmmStartedAt, createdAt, 0, null, stopReason,
                imageDefaults, network, networkMode);
    }

    /**
     * This record in state {@code next}, if the state table ({@link VmState#canMoveTo}) allows it.
     *
     * @throws SmartVmException INVALID_STATE otherwise
     */
    public VmRecord moveTo(VmState next, String reason) {
        if (!state.canMoveTo(next)) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "VM '" + name + "' cannot go from "
                    + state.name().toLowerCase() + " to " + next.name().toLowerCase());
        }
        return next == VmState.STOPPED ? stopped(reason) : withState(next);
    }

    /** Throws INVALID_STATE, saying why, unless {@code action} (which moves to {@code next}) is allowed now. */
    public void requireAllowed(VmState next, String action) {
        if (!state.canMoveTo(next)) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot " + action + " VM '" + name
                    + "': it is " + state.name().toLowerCase() + stopReasonSuffix());
        }
    }

    /** Why it stopped, in parentheses, when it is stopped and knows why; else "". */
    public String stopReasonSuffix() {
        return stopReason != null && state == VmState.STOPPED ? " (" + stopReason + ")" : "";
    }
}

package dev.smartvm;

import dev.smartvm.image.ExecDefaults;
import dev.smartvm.net.HostNetwork;
import java.time.Instant;

/**
 * What is persisted of a VM in {@code vms/<id>/vm.json}, so that another process (the CLI)
 * can find, drive and clean it up.
 *
 * @param ownerPid the process whose SmartVm made it and stops it on close; 0 once detached
 * @param imageDefaults what every exec inherits from the image it last booted (an OCI config)
 * @param network the host network it holds while it runs (TAP, address), or null
 */
record VmRecord(
        String id, String name, VmSpec spec, VmState state, Acceleration acceleration, long pid,
        Instant vmmStartedAt, Instant createdAt, long ownerPid, Instant ownerStartedAt, String stopReason,
        ExecDefaults imageDefaults, HostNetwork.Attachment network) {
    VmRecord {
        imageDefaults = imageDefaults == null ? ExecDefaults.NONE : imageDefaults;
    }

    VmRecord withState(VmState next) {
        return new VmRecord(id, name, spec, next, acceleration, pid, vmmStartedAt, createdAt, ownerPid,
                ownerStartedAt, stopReason, imageDefaults, network);
    }

    VmRecord withVmm(Acceleration accel, long vmmPid, Instant startedAt, ExecDefaults defaults) {
        return new VmRecord(id, name, spec, state, accel, vmmPid, startedAt, createdAt, ownerPid, ownerStartedAt, null, defaults,
                network);
    }

    VmRecord withNetwork(HostNetwork.Attachment attachment) {
        return new VmRecord(id, name, spec, state, acceleration, pid, vmmStartedAt, createdAt, ownerPid, ownerStartedAt,
                stopReason, imageDefaults, attachment);
    }

    VmRecord stopped(String reason) {
        return new VmRecord(id, name, spec, VmState.STOPPED, acceleration, -1, null, createdAt, ownerPid,
                ownerStartedAt, reason, imageDefaults, null);
    }

    VmRecord detached() {
        return new VmRecord(id, name, spec, state, acceleration, pid, vmmStartedAt, createdAt, 0, null, stopReason,
                imageDefaults, network);
    }
}

package dev.smartvm;

import java.time.Instant;

/**
 * What is persisted of a VM in {@code vms/<id>/vm.json}, so that another process (the CLI)
 * can find, drive and clean it up.
 *
 * @param ownerPid the process whose SmartVm made it and stops it on close; 0 once detached
 */
record VmRecord(
        String id, String name, VmSpec spec, VmState state, Acceleration acceleration, long pid,
        Instant vmmStartedAt, Instant createdAt, long ownerPid, Instant ownerStartedAt, String stopReason) {

    VmRecord withState(VmState next) {
        return new VmRecord(id, name, spec, next, acceleration, pid, vmmStartedAt, createdAt, ownerPid,
                ownerStartedAt, stopReason);
    }

    VmRecord withVmm(Acceleration accel, long vmmPid, Instant startedAt) {
        return new VmRecord(id, name, spec, state, accel, vmmPid, startedAt, createdAt, ownerPid, ownerStartedAt, null);
    }

    VmRecord stopped(String reason) {
        return new VmRecord(id, name, spec, VmState.STOPPED, acceleration, -1, null, createdAt, ownerPid,
                ownerStartedAt, reason);
    }

    VmRecord detached() {
        return new VmRecord(id, name, spec, state, acceleration, pid, vmmStartedAt, createdAt, 0, null, stopReason);
    }
}

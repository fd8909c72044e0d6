package dev.smartvm;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What a running or paused VM uses, as {@link MicroVm#stats()} samples it.
 *
 * @param id the VM's id
 * @param name its name
 * @param sampledAt when
 * @param cpuTime CPU time of the VM's vCPU threads (of the whole VMM process on an engine whose vCPU
 *     threads cannot be told apart), user and system, since the VMM started
 * @param cpuPercent that time's share of one host CPU over {@code interval} (100 = one CPU busy)
 * @param interval the span {@code cpuPercent} covers: since the handle's previous sample, or a short one
 * @param guest what the guest reports (memory, activity); null when it cannot answer (paused, or an
 *     agent older than this feature)
 * @param vmmRssBytes resident memory of the VMM process on the host
 * @param vmmPssBytes its proportional share of that: memory shared with others (a template's) counted in part
 * @param diskBytes the host disk blocks of the VM's writable disk (its overlay); -1 when the engine keeps it elsewhere
 * @param networkInBytes bytes the guest received on the TAP device SmartVM owns; -1 without one
 * @param networkOutBytes bytes the guest sent on it; -1 without one
 */
public record VmStats(String id, String name, Instant sampledAt, Duration cpuTime, double cpuPercent, Duration interval,
        GuestUsage guest, long vmmRssBytes, long vmmPssBytes, long diskBytes, long networkInBytes, long networkOutBytes) {
    public VmStats {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(sampledAt, "sampledAt");
        Objects.requireNonNull(cpuTime, "cpuTime");
        Objects.requireNonNull(interval, "interval");
    }
}

package dev.smartvm.firecracker;

import java.nio.file.Path;
import java.util.Map;

/**
 * What only Firecracker has, for a running or paused VM of the {@code firecracker} backend
 * ({@code MicroVm.firecracker()}): instance info, snapshots, the balloon, metrics. Every call is
 * one request on Firecracker's API socket; a refusal is a {@code SmartVmException} carrying
 * Firecracker's fault message.
 */
public interface FirecrackerVm {
    /** What GET / says: the instance id, its state (Not started, Running, Paused), the version. */
    record InstanceInfo(String id, String state, String vmmVersion, String appName) {
    }

    /** Full: all memory. Diff: only pages dirtied since the last snapshot (needs dirty page tracking). */
    enum SnapshotType {
        Full, Diff
    }

    InstanceInfo instanceInfo();

    /** Writes a snapshot of a paused VM: its device state and its memory. */
    void createSnapshot(SnapshotType type, Path snapshot, Path memory);

    /** Sets the balloon's target size (a balloon must have been configured before boot). */
    void updateBalloon(int amountMib);

    /** Changes how often the guest reports balloon statistics (0 turns them off). */
    void updateBalloonStatisticsInterval(int seconds);

    /**
     * The latest balloon statistics, as Firecracker names them ({@code target_mib},
     * {@code actual_mib}, {@code free_memory}...), numbers as {@code Number}.
     */
    Map<String, Object> balloonStatistics();

    /** Makes Firecracker write its metrics now. */
    void flushMetrics();

    /**
     * The whole configuration the VM runs with, from Firecracker's {@code GET /vm/config}: a
     * {@code FullVmConfiguration} (the objects under their config-file names: {@code boot-source},
     * {@code drives}, {@code machine-config}...), as pretty-printed JSON that Firecracker's
     * {@code --config-file} reads, without what SmartVM adds for its guest agent (its initramfs,
     * its boot args, its log and metrics files) and with absolute host paths. Given back to
     * {@code VmSpec.firecrackerConfig} it makes the same requests; given to Firecracker it boots
     * the kernel on the root drive, without SmartVM's agent.
     */
    String vmConfig();
}

package dev.smartvm.internal.qemu;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.FileTrees;
import java.nio.file.Files;
import java.nio.file.Path;

/** What a QEMU VM's saved state is on disk: the migration stream, and a copy of its writable disk. */
final class QemuSnapshots {
    /** QEMU's migration stream: memory and device state. */
    static final String STATE = "state.bin";
    /** The VM's writable disk (its qcow2 overlay) as it was, absent for a VM without one. */
    static final String DISK = "root.qcow2";
    /** QEMU's migration capability that leaves memory in shared files out of the stream: a template's. */
    static final String IGNORE_SHARED = "x-ignore-shared";

    private QemuSnapshots() {
    }

    /** {@code path} for {@code sh}, which runs QEMU's {@code exec:} migration commands. */
    static String shellQuoted(Path path) {
        return "'" + path.toAbsolutePath().toString().replace("'", "'\\''") + "'";
    }

    /** A sparse copy (a reflink where the file system can) of {@code disk}, if it exists. */
    static void copyDisk(Path disk, Path target) {
        if (!Files.exists(disk)) {
            return;
        }
        FileTrees.sparseCopy(disk, target);
    }

    /** {@code migrate-set-capabilities}' arguments that turn {@link #IGNORE_SHARED} on (or off). */
    static java.util.Map<String, Object> ignoreShared(boolean on) {
        return java.util.Map.of("capabilities", java.util.List.of(java.util.Map.of("capability", IGNORE_SHARED, "state", on)));
    }

    /** The VM's disk as the snapshot in {@code snapshotDir} has it, put in place before its QEMU starts. */
    static void restoreDisk(Path snapshotDir, Path vmDir) {
        Path saved = snapshotDir.resolve(DISK);
        if (Files.exists(saved)) {
            copyDisk(saved, QemuCommandLine.rootOverlay(vmDir));
        } else if (!Files.isDirectory(snapshotDir)) {
            throw new SmartVmException(ErrorCode.PATH_NOT_FOUND, "no saved state in " + snapshotDir);
        }
    }
}

package dev.smartvm.internal.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.ConsoleWatch;
import dev.smartvm.internal.host.VmmPid;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.io.TextFiles;
import dev.smartvm.spi.AgentEndpoint;
import dev.smartvm.spi.VmmProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A running QEMU. QEMU serves one QMP client at a time, so no connection is held: each control
 * command connects under a per-VM lock file, which lets other processes (the CLI) drive it too.
 */
final class QemuProcess implements VmmProcess {
    private static final Duration QMP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MIGRATION_TIMEOUT = Duration.ofMinutes(10);
    private static final long MIGRATION_BYTES_PER_SECOND = 16L << 30;
    /** Below this much free space, a save that failed is taken for one that filled its disk. */
    private static final long DISK_FULL_BYTES = 4L << 20;

    private final VmmPid process;
    private final Path vmDir;
    private volatile List<Long> vcpuThreads; // fixed for the VMM's life: asked once

    QemuProcess(long pid, Instant startedAt, Path vmDir, Process child) {
        this.process = new VmmPid(pid, startedAt, child);
        this.vmDir = vmDir;
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public AgentEndpoint agentEndpoint() {
        return AgentEndpoint.ports(QemuCommandLine.agentSockets(vmDir));
    }

    /** The vCPU threads QEMU names in {@code query-cpus-fast}. */
    @Override
    public List<Long> vcpuThreads() {
        List<Long> known = vcpuThreads;
        if (known == null) {
            List<Long> ids = new ArrayList<>();
            qmp("query-cpus-fast", null).forEach(cpu -> ids.add(cpu.path("thread-id").asLong()));
            vcpuThreads = known = List.copyOf(ids);
        }
        return known;
    }

    @Override
    public Optional<Path> writableDisk() {
        Path overlay = QemuCommandLine.rootOverlay(vmDir);
        return Files.exists(overlay) ? Optional.of(overlay) : Optional.empty();
    }

    /** Runs one QMP command on a fresh connection; returns its "return" value. */
    JsonNode qmp(String command, Map<String, Object> arguments) {
        return withQmp(QMP_TIMEOUT, qmp -> qmp.execute(command, arguments, QMP_TIMEOUT));
    }

    /**
     * Runs {@code session} on one fresh QMP connection (waiting up to {@code connectTimeout} for
     * QEMU to listen), held alone (the lock) until it returns.
     */
    @SuppressWarnings("try") // the lock is held for the block
    private <T> T withQmp(Duration connectTimeout, Function<QmpClient, T> session) {
        if (!isAlive()) {
            throw new SmartVmException(ErrorCode.VM_STOPPED, "QEMU (pid " + process.pid() + ") is not running");
        }
        try (LockFile lock = LockFile.acquire(vmDir.resolve("qmp.lock"));
                QmpClient client = QmpClient.connect(QemuCommandLine.qmpSocket(vmDir), connectTimeout, this::isAlive)) {
            return session.apply(client);
        }
    }

    /**
     * Saves the paused VM: its memory and devices streamed by QEMU's migration into
     * {@code state.bin} (at full speed: 7.2's default rate limit makes a save several times
     * slower), then its writable disk, flushed by then, copied beside it.
     */
    @Override
    public void saveState(Path snapshotDir) {
        save(snapshotDir, false);
    }

    /**
     * Saves the paused VM as a template: its devices (memory in its shared file is left out of
     * the stream, {@code x-ignore-shared}: a few tens of kilobytes) and its disk.
     */
    @Override
    public void saveTemplate(Path templateDir) {
        save(templateDir, true);
    }

    private void save(Path dir, boolean memoryInFile) {
        withQmp(QMP_TIMEOUT, qmp -> {
            // explicit either way: a clone keeps the capability its own load turned on
            qmp.execute("migrate-set-capabilities", QemuSnapshots.ignoreShared(memoryInFile), QMP_TIMEOUT);
            qmp.execute("migrate-set-parameters", Map.of("max-bandwidth", MIGRATION_BYTES_PER_SECOND), QMP_TIMEOUT);
            qmp.execute("migrate", Map.of("uri", "exec:cat > " + QemuSnapshots.shellQuoted(dir.resolve(QemuSnapshots.STATE))),
                    QMP_TIMEOUT);
            try {
                awaitMigration(qmp, "saving the state");
            } catch (SmartVmException e) {
                throw diskFullOr(dir, e);
            }
            return null;
        });
        QemuSnapshots.copyDisk(QemuCommandLine.rootOverlay(vmDir), dir.resolve(QemuSnapshots.DISK));
    }

    /**
     * Loads a saved state into this QEMU (started with {@code -incoming defer}), then lets it
     * run ({@code run}; else it stays paused); {@code memoryInFile}: a template's, whose memory is the file this QEMU maps. One QMP
     * connection for it all (waiting up to {@code connectTimeout} for QEMU to listen): a clone's
     * start counts milliseconds.
     */
    void loadState(Path snapshotDir, boolean memoryInFile, Duration connectTimeout, boolean run) {
        withQmp(connectTimeout, qmp -> {
            // No self-announce: QEMU would send RARPs with the saved VM's MAC (the device's saved state) for
            // a second and more, and the bridge would send that VM's traffic to this one; the agent
            // announces the VM's own MAC and address once it has set them (IDENTIFY).
            qmp.execute("migrate-set-parameters", Map.of("announce-rounds", 0), QMP_TIMEOUT);
            if (memoryInFile) { // set on each clone, before the state comes in (QEMU 7.2)
                qmp.execute("migrate-set-capabilities", QemuSnapshots.ignoreShared(true), QMP_TIMEOUT);
            }
            qmp.execute("migrate-incoming", Map.of("uri", "exec:cat "
                    + QemuSnapshots.shellQuoted(snapshotDir.resolve(QemuSnapshots.STATE))), QMP_TIMEOUT);
            awaitMigration(qmp, "loading the state");
            return run ? qmp.execute("cont", null, QMP_TIMEOUT) : null;
        });
    }

    /**
     * What a failed save says: QEMU only sees its writer's pipe break, so a file system that
     * filled up is told as such (IO_ERROR), with what is left on it.
     */
    private static SmartVmException diskFullOr(Path dir, SmartVmException failure) {
        try {
            long free = java.nio.file.Files.getFileStore(dir).getUsableSpace();
            if (free < DISK_FULL_BYTES) {
                return new SmartVmException(ErrorCode.IO_ERROR, "No space left on device: the VM's state did not fit in "
                        + dir + " (" + free / 1024 + " KiB free)", failure);
            }
        } catch (java.io.IOException e) {
            failure.addSuppressed(e);
        }
        return failure;
    }

    /** Waits for the migration under way to complete; a failed one is VMM_ERROR with QEMU's reason. */
    private void awaitMigration(QmpClient qmp, String what) {
        long deadline = System.nanoTime() + MIGRATION_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode m = qmp.execute("query-migrate", null, QMP_TIMEOUT);
            String status = m.path("status").asText("none");
            switch (status) {
                case "completed" -> {
                    return;
                }
                case "failed", "cancelled" -> throw new SmartVmException(ErrorCode.VMM_ERROR, "QEMU failed " + what + ": "
                        + m.path("error-desc").asText(status));
                default -> sleepQuietly();
            }
        }
        throw new SmartVmException(ErrorCode.TIMEOUT, "QEMU did not finish " + what + " in " + MIGRATION_TIMEOUT);
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted waiting for QEMU's migration", e);
        }
    }

    Instant startedAt() {
        return process.startedAt();
    }

    /** " (exit code N)" once it exited, else "". */
    String exitCodeText() {
        return isAlive() ? "" : process.exitCodeText();
    }

    /** Kills it at once (nothing of its guest is kept) and waits for it. */
    void kill() {
        process.killAfter(Duration.ZERO);
    }

    @Override
    public void pause() {
        qmp("stop", null);
    }

    @Override
    public void resume() {
        qmp("cont", null);
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public boolean awaitExit(Duration timeout) {
        return process.awaitExit(timeout);
    }

    @Override
    public void terminate(Duration grace) {
        if (!isAlive()) {
            return;
        }
        try {
            qmp("quit", null);
        } catch (SmartVmException e) {
            // QEMU may be wedged or already going: the kill below settles it
        }
        process.killAfter(grace);
    }

    @Override
    public Optional<String> exitReason() {
        if (isAlive()) {
            return Optional.empty();
        }
        Optional<String> guest = ConsoleWatch.guestStopReason(QemuCommandLine.consoleLog(vmDir));
        if (guest.isPresent()) {
            return guest;
        }
        String code = process.exitCodeText();
        List<String> log = TextFiles.tail(vmDir.resolve("qemu.log"), 5);
        return Optional.of("QEMU exited" + code + (log.isEmpty() ? "" : ": " + String.join(" | ", log)));
    }

    @Override
    public void close() {
        // no connection is held
    }
}

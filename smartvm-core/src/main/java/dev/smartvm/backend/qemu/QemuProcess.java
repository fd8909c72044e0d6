package dev.smartvm.backend.qemu;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.backend.AgentEndpoint;
import dev.smartvm.backend.HostProcess;
import dev.smartvm.backend.VmmProcess;
import dev.smartvm.internal.LockFile;
import dev.smartvm.internal.TextFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A running QEMU. QEMU serves one QMP client at a time, so no connection is held: each control
 * command connects under a per-VM lock file, which lets other processes (the CLI) drive it too.
 */
final class QemuProcess implements VmmProcess {
    private static final Duration QMP_TIMEOUT = Duration.ofSeconds(10);

    private final long pid;
    private final Instant startedAt;
    private final Path vmDir;
    private final Process child;

    QemuProcess(long pid, Instant startedAt, Path vmDir, Process child) {
        this.pid = pid;
        this.startedAt = startedAt;
        this.vmDir = vmDir;
        this.child = child;
    }

    @Override
    public long pid() {
        return pid;
    }

    Instant startedAt() {
        return startedAt;
    }

    @Override
    public AgentEndpoint agentEndpoint() {
        return AgentEndpoint.direct(QemuCommandLine.agentSocket(vmDir));
    }

    /** Runs one QMP command on a fresh connection. */
    @SuppressWarnings("try") // the lock is held for the block
    void qmp(String command, Map<String, Object> arguments) {
        if (!isAlive()) {
            throw new SmartVmException(ErrorCode.VM_STOPPED, "QEMU (pid " + pid + ") is not running");
        }
        try (LockFile lock = LockFile.acquire(vmDir.resolve("qmp.lock"));
                QmpClient client = QmpClient.connect(QemuCommandLine.qmpSocket(vmDir), QMP_TIMEOUT, this::isAlive)) {
            client.execute(command, arguments, QMP_TIMEOUT);
        }
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
        return child != null ? child.isAlive() : HostProcess.isRunning(pid, startedAt);
    }

    @Override
    public boolean awaitExit(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (child != null) {
                return child.waitFor(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
            }
            while (isAlive()) {
                if (System.nanoTime() >= deadline) {
                    return false;
                }
                Thread.sleep(20);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for QEMU to exit", e);
        }
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
        if (!awaitExit(grace)) {
            if (child != null) {
                child.destroyForcibly();
            } else {
                HostProcess.kill(pid, startedAt);
            }
            awaitExit(Duration.ofSeconds(10));
        }
    }

    @Override
    public Optional<String> exitReason() {
        if (isAlive()) {
            return Optional.empty();
        }
        Optional<String> panic = TextFiles.tail(QemuCommandLine.consoleLog(vmDir), 200).stream()
                .filter(l -> l.contains("Kernel panic") || l.contains("smartvm-agent:") && l.contains("powering off"))
                .findFirst();
        if (panic.isPresent()) {
            return Optional.of("the guest stopped: " + panic.get().strip());
        }
        String code = child != null ? " with code " + child.exitValue() : "";
        List<String> log = TextFiles.tail(vmDir.resolve("qemu.log"), 5);
        return Optional.of("QEMU exited" + code + (log.isEmpty() ? "" : ": " + String.join(" | ", log)));
    }

    @Override
    public void close() {
        // no connection is held
    }
}

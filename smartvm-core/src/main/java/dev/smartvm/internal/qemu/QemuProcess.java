package dev.smartvm.internal.qemu;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.ConsoleWatch;
import dev.smartvm.internal.host.VmmPid;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.io.TextFiles;
import dev.smartvm.spi.AgentEndpoint;
import dev.smartvm.spi.VmmProcess;
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

    private final VmmPid process;
    private final Path vmDir;

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

    /** Runs one QMP command on a fresh connection. */
    @SuppressWarnings("try") // the lock is held for the block
    void qmp(String command, Map<String, Object> arguments) {
        if (!isAlive()) {
            throw new SmartVmException(ErrorCode.VM_STOPPED, "QEMU (pid " + process.pid() + ") is not running");
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

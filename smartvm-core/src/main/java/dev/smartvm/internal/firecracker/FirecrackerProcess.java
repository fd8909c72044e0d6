package dev.smartvm.internal.firecracker;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.FirecrackerVm;
import dev.smartvm.internal.host.ConsoleWatch;
import dev.smartvm.internal.host.VmmPid;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.TextFiles;
import dev.smartvm.spi.AgentEndpoint;
import dev.smartvm.spi.VmmProcess;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A running Firecracker, driven over its API socket: pause and resume, SendCtrlAltDel then a
 * kill to stop, snapshots, the balloon, metrics. The agent is reached through the hybrid vsock.
 */
public final class FirecrackerProcess implements VmmProcess, FirecrackerVm {
    /** The guest vsock port the agent listens on. */
    public static final int AGENT_PORT = 1024;

    private final VmmPid process;
    private final Path vmDir;
    private final FirecrackerLayout layout;
    private final Runnable cleanUp;
    private final Path templateMemory;
    private final Path userKernel;
    private FirecrackerApiClient client;

    /** @param templateMemory where {@link #saveTemplate} writes the memory (the boot's TemplateMemory), or null */
    FirecrackerProcess(long pid, Instant startedAt, Path vmDir, Process child, FirecrackerLayout layout, Runnable cleanUp,
            Path templateMemory) {
        this(pid, startedAt, vmDir, child, layout, cleanUp, templateMemory, null);
    }

    /** @param userKernel the kernel of a user's config file this VMM boots, or null for SmartVM's */
    FirecrackerProcess(long pid, Instant startedAt, Path vmDir, Process child, FirecrackerLayout layout, Runnable cleanUp,
            Path templateMemory, Path userKernel) {
        this.process = new VmmPid(pid, startedAt, child);
        this.vmDir = vmDir;
        this.layout = layout;
        this.cleanUp = cleanUp;
        this.templateMemory = templateMemory;
        this.userKernel = userKernel;
    }

    /** A kernel of the user's own must have, built in, what SmartVM's agent and its initramfs use. */
    @Override
    public Optional<String> agentHint() {
        return Optional.ofNullable(userKernel).map(k -> "the kernel " + k + " (the Firecracker config's boot-source) runs"
                + " SmartVM's guest agent from an initramfs; it needs built in, not as modules: initramfs support"
                + " (CONFIG_BLK_DEV_INITRD), virtio-mmio (CONFIG_VIRTIO_MMIO), vsock over virtio (CONFIG_VSOCKETS,"
                + " CONFIG_VIRTIO_VSOCKETS), devtmpfs (CONFIG_DEVTMPFS) and the root drive's filesystem; with console=ttyS0"
                + " in boot_args the console shows how far it got");
    }

    @Override
    public long pid() {
        return process.pid();
    }

    /** Firecracker names its vCPU threads {@code fc_vcpu N}. */
    @Override
    public List<Long> vcpuThreads() {
        List<Long> ids = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid()), "task"))) {
            for (Path task : tasks) {
                if (Files.readString(task.resolve("comm")).startsWith("fc_vcpu")) {
                    ids.add(Long.parseLong(task.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            return List.of(); // gone, or not Firecracker's layout of threads: the whole process is counted
        }
        return ids;
    }

    @Override
    public Optional<Path> writableDisk() {
        Path disk = layout.filesDir().resolve(FirecrackerBackend.ROOT_DISK);
        return Files.exists(disk) ? Optional.of(disk) : Optional.empty();
    }

    public FirecrackerLayout layout() {
        return layout;
    }

    @Override
    public AgentEndpoint agentEndpoint() {
        return AgentEndpoint.hybridVsock(layout.vsockSocket(), AGENT_PORT);
    }

    synchronized FirecrackerApiClient api() {
        if (!isAlive()) {
            throw new SmartVmException(ErrorCode.VM_STOPPED, "Firecracker (pid " + process.pid() + ") is not running");
        }
        if (client == null) {
            client = new FirecrackerApiClient(layout.apiSocket());
        }
        return client;
    }

    /** One API call; a refusal is a {@link FirecrackerApiException} with Firecracker's fault_message. */
    private FirecrackerApiClient.Response call(String method, String path, Object body) {
        return api().send(method, path, body);
    }

    @Override
    public InstanceInfo instanceInfo() {
        JsonNode j = call("GET", "/", null).json();
        return new InstanceInfo(j.path("id").asText(), j.path("state").asText(), j.path("vmm_version").asText(),
                j.path("app_name").asText());
    }

    @Override
    public void pause() {
        call("PATCH", "/vm", Map.of("state", "Paused"));
    }

    @Override
    public void resume() {
        call("PATCH", "/vm", Map.of("state", "Resumed"));
    }

    @Override
    public void createSnapshot(SnapshotType type, Path snapshot, Path memory) {
        call("PUT", "/snapshot/create", Map.of("snapshot_type", type.name(), "snapshot_path", layout.vmmPath(snapshot),
                "mem_file_path", layout.vmmPath(memory)));
    }

    /** A full snapshot: device state and memory into {@code snapshotDir}, the root disk copied beside them. */
    @Override
    public void saveState(Path snapshotDir) {
        FirecrackerSnapshots.save(this, snapshotDir, snapshotDir.resolve(FirecrackerSnapshots.MEMORY));
    }

    /**
     * A full snapshot whose memory goes to the template's memory file (Firecracker cannot run a
     * guest in a shared file: its memory is written once, here, and clones map it privately).
     */
    @Override
    public void saveTemplate(Path templateDir) {
        if (templateMemory == null) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "this Firecracker VM was not booted to be a template");
        }
        FirecrackerSnapshots.save(this, templateDir, templateMemory);
    }

    @Override
    public void updateBalloon(int amountMib) {
        if (amountMib < 0) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "balloon.amountMib must be >= 0; found " + amountMib);
        }
        call("PATCH", "/balloon", Map.of("amount_mib", amountMib));
    }

    @Override
    public void updateBalloonStatisticsInterval(int seconds) {
        if (seconds < 0) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "balloon.statsPollingIntervalS must be >= 0; found " + seconds);
        }
        call("PATCH", "/balloon/statistics", Map.of("stats_polling_interval_s", seconds));
    }

    @Override
    public Map<String, Object> balloonStatistics() {
        return Json.MAPPER.convertValue(call("GET", "/balloon/statistics", null).json(),
                new TypeReference<Map<String, Object>>() { });
    }

    @Override
    public void flushMetrics() {
        call("PUT", "/actions", Map.of("action_type", "FlushMetrics"));
    }

    @Override
    public String vmConfig() {
        try {
            return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(
                    ConfigExport.of(call("GET", "/vm/config", null).json(), layout));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "Firecracker's /vm/config is not JSON: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public boolean awaitExit(Duration timeout) {
        return process.awaitExit(timeout);
    }

    /** SendCtrlAltDel (the guest resets, which ends Firecracker), then a kill after {@code grace}. */
    @Override
    public void terminate(Duration grace) {
        if (isAlive()) {
            try {
                api().send("PUT", "/actions", Map.of("action_type", "SendCtrlAltDel"));
            } catch (SmartVmException e) {
                // not started yet, or wedged: the kill below settles it
            }
            process.killAfter(grace);
        }
        close();
        cleanUp.run();
    }

    @Override
    public Optional<String> exitReason() {
        if (isAlive()) {
            return Optional.empty();
        }
        Optional<String> guest = ConsoleWatch.guestStopReason(vmDir.resolve("console.log"));
        if (guest.isPresent()) {
            return guest;
        }
        String code = process.exitCodeText();
        Path logFile = (layout.chroot() != null ? layout.chroot() : vmDir).resolve(FirecrackerBackend.LOG_FILE);
        List<String> log = Files.exists(logFile) ? TextFiles.tail(logFile, 3) : List.of();
        return Optional.of("Firecracker exited" + code + (log.isEmpty() ? "" : ": " + String.join(" | ", log)));
    }

    @Override
    public synchronized void close() {
        if (client != null) {
            client.close();
            client = null;
        }
    }
}

package dev.smartvm.internal.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.firecracker.FirecrackerVm.SnapshotType;
import dev.smartvm.firecracker.Logger;
import dev.smartvm.firecracker.Metrics;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.RestoreState;
import dev.smartvm.spi.TemplateClone;
import dev.smartvm.spi.TemplateMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Firecracker's saved states, as SmartVM keeps them: a directory with the device state
 * ({@value #STATE}), the guest memory ({@value #MEMORY}, or a template's memory file) and a copy
 * of the writable root disk ({@value #DISK}). Firecracker loads memory from a file by mapping it
 * privately, so a template's memory file is shared by its clones and never written. Firecracker
 * has no copy-on-write drives: a restored VM gets its own copy of the saved disk, under the name
 * the snapshot recorded ({@link FirecrackerLayout}).
 */
final class FirecrackerSnapshots {
    static final String STATE = "vmstate";
    static final String MEMORY = "memory";
    static final String DISK = FirecrackerBackend.ROOT_DISK;

    private FirecrackerSnapshots() {
    }

    /**
     * Saves the paused VM: its device state into {@code dir}, its memory into {@code memory},
     * its root disk (if it has one) copied beside them. Under the jailer Firecracker writes into
     * its chroot, and the files are moved out.
     */
    static void save(FirecrackerProcess vmm, Path dir, Path memory) {
        FirecrackerLayout layout = vmm.layout();
        refuseSharedWritableDrives(vmm, layout);
        boolean jailed = layout.chroot() != null;
        Path state = jailed ? layout.chroot().resolve(".snapshot-" + STATE) : dir.resolve(STATE);
        Path mem = jailed ? layout.chroot().resolve(".snapshot-" + MEMORY) : memory;
        try {
            vmm.createSnapshot(SnapshotType.Full, state, mem);
            if (jailed) {
                move(state, dir.resolve(STATE));
                move(mem, memory);
            }
        } catch (FirecrackerApiException e) {
            throw new SmartVmException(e.faultMessage().contains("No space left") ? ErrorCode.IO_ERROR : ErrorCode.VMM_ERROR,
                    "Firecracker could not save the VM: " + e.faultMessage(), e);
        } finally {
            if (jailed) {
                deleteQuietly(state);
                deleteQuietly(mem);
            }
        }
        Path disk = layout.filesDir().resolve(DISK);
        if (Files.exists(disk)) {
            FileTrees.sparseCopy(disk, dir.resolve(DISK));
        }
    }

    /**
     * A writable drive that is not the VM's own copy (a config file's, which the guest writes in
     * place) is neither saved with the memory nor copied for a restored VM: restored, the guest
     * would find it changed under its page cache, and clones would all write the one file.
     */
    private static void refuseSharedWritableDrives(FirecrackerProcess vmm, FirecrackerLayout layout) {
        String own = layout.ownFile(DISK);
        JsonNode running = vmm.api().send("GET", "/vm/config", null).json();
        for (String list : List.of("drives", "pmem")) {
            for (JsonNode d : running.path(list)) {
                boolean readOnly = d.path(list.equals("drives") ? "is_read_only" : "read_only").asBoolean(false);
                if (!readOnly && !d.path("path_on_host").asText().equals(own)) {
                    String id = d.path(list.equals("drives") ? "drive_id" : "id").asText();
                    throw new SmartVmException(ErrorCode.UNSUPPORTED, "the VM has the writable " + (list.equals("drives") ? "drive '"
                            : "pmem device '") + id + "' (" + d.path("path_on_host").asText() + ") of its Firecracker config, which"
                            + " the guest writes in place: a saved state would not have it, and its clones would all write the one"
                            + " file; make it read-only, or let the image's disk be the writable root");
                }
            }
        }
    }

    /**
     * The load a boot request asks for: of the state of its {@link RestoreState} (its own
     * memory) or of its {@link TemplateClone} (the template's memory file), resumed at once, its
     * network interface on the request's TAP; empty for a boot.
     */
    static Optional<SnapshotLoad> load(BootRequest request) {
        Optional<Path> restore = request.extension(RestoreState.class).map(RestoreState::snapshotDir);
        Optional<TemplateClone> clone = request.extension(TemplateClone.class);
        Path dir = restore.or(() -> clone.map(TemplateClone::templateDir)).orElse(null);
        if (dir == null) {
            return Optional.empty();
        }
        Path memory = clone.map(TemplateClone::memoryFile).orElse(dir.resolve(MEMORY));
        Map<String, String> overrides = request.nic() == null ? Map.of() : Map.of(FirecrackerBackend.NIC_ID, request.nic().tap());
        return Optional.of(new SnapshotLoad(dir.resolve(STATE), SnapshotLoad.MemoryBackend.File, memory, true, overrides));
    }

    /**
     * Makes the files a loaded snapshot opens under the names it recorded: the VM's own copy of
     * the saved disk, the log and metrics files. Returns the logger and metrics configuration,
     * the only ones Firecracker takes before a load.
     *
     * @param jailer the jail Firecracker runs in, or null
     */
    static VmConfig prepareLoad(BootRequest spec, FirecrackerLayout layout, SnapshotLoad load, Jailer jailer) {
        Path disk = load.snapshot().resolveSibling(DISK);
        layout.stageOwnFiles(spec.vmDir(), jailer, Files.exists(disk) ? disk : null);
        return new VmConfig(null, null, List.of(), List.of(), null, null, null,
                new Logger("Info", layout.ownFile(FirecrackerBackend.LOG_FILE), true, null, null),
                new Metrics(layout.ownFile(FirecrackerBackend.METRICS_FILE)), null, null);
    }

    /** Logger and metrics (so that the load is logged), then the load; a load this version cannot take is refused first. */
    static List<ApiRequest> loadRequests(VmConfig config, SnapshotLoad load, FirecrackerLayout layout, FirecrackerVersion version,
            FieldSupport support) {
        ApiRequest loading = load.request(layout, version, support);
        return List.of(ApiRequest.put("/logger", config.logger().toPayload()), ApiRequest.put("/metrics",
                config.metrics().toPayload()), loading);
    }

    /**
     * Makes the state saved by {@link #save} in the request's {@link RestoreState} a template in
     * {@code templateDir}: its files are moved there, its memory to the request's
     * {@link TemplateMemory}. Firecracker needs no VMM for this: its saved memory already is a
     * file that clones map privately.
     */
    static void templateFromState(BootRequest request, Path templateDir) {
        Path state = request.extension(RestoreState.class).map(RestoreState::snapshotDir).orElseThrow(
                () -> new IllegalArgumentException("no saved state to make a template of"));
        Path memory = request.extension(TemplateMemory.class).map(TemplateMemory::file).orElseThrow(
                () -> new IllegalArgumentException("no memory file for the template"));
        move(state.resolve(STATE), templateDir.resolve(STATE));
        move(state.resolve(MEMORY), memory);
        if (Files.exists(state.resolve(DISK))) {
            move(state.resolve(DISK), templateDir.resolve(DISK));
        }
    }

    private static void move(Path from, Path to) {
        try {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot move " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // inside the jail, which goes with the VM
        }
    }
}

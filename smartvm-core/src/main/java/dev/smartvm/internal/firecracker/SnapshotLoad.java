package dev.smartvm.internal.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.firecracker.Payloads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code PUT /snapshot/load} needs: the snapshot file, where guest memory comes from (a file,
 * or a userfaultfd handler's Unix socket), whether to resume at once, and host TAP devices that
 * replace the ones the snapshot was taken with.
 *
 * @param networkOverrides interface id to host TAP name (Firecracker 1.12 and later)
 */
public record SnapshotLoad(Path snapshot, MemoryBackend memoryBackend, Path memory, boolean resumeVm,
        Map<String, String> networkOverrides) {
    public enum MemoryBackend {
        File, Uffd
    }

    public SnapshotLoad {
        networkOverrides = networkOverrides == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(networkOverrides));
        if (snapshot == null || memory == null || memoryBackend == null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a snapshot load needs the snapshot, the memory backend and its path");
        }
    }

    public static SnapshotLoad fromFiles(Path snapshot, Path memory, boolean resumeVm) {
        return new SnapshotLoad(snapshot, MemoryBackend.File, memory, resumeVm, Map.of());
    }

    /** The files a jailed Firecracker must see, hard-linked into its chroot. */
    SnapshotLoad staged(Jailer jailer, Path chroot) {
        Path snap = jailer.stage(chroot, snapshot, "snapshot");
        Path mem = memoryBackend == MemoryBackend.File ? jailer.stage(chroot, memory, "memory") : memory;
        if (memoryBackend == MemoryBackend.Uffd && !memory.startsWith(chroot)) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "under the jailer, the userfaultfd socket " + memory
                    + " must be inside the jail " + chroot);
        }
        return new SnapshotLoad(snap, memoryBackend, mem, resumeVm, networkOverrides);
    }

    ApiRequest request(FirecrackerLayout layout, FirecrackerVersion version, FieldSupport support) {
        if (!Files.isRegularFile(snapshot)) {
            throw new SmartVmException(ErrorCode.PATH_NOT_FOUND, "no snapshot file " + snapshot);
        }
        if (memoryBackend == MemoryBackend.File && !Files.isRegularFile(memory)) {
            throw new SmartVmException(ErrorCode.PATH_NOT_FOUND, "no memory file " + memory);
        }
        if (!networkOverrides.isEmpty() && !support.supports("SnapshotLoadParams.network_overrides", version)) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "network overrides on snapshot load need Firecracker "
                    + support.firstRelease("SnapshotLoadParams.network_overrides").map(Object::toString).orElse("newer")
                    + " or newer; this one is " + version + ": a networked VM's copy gets its own TAP device through"
                    + " them (restore it without a network, or use the qemu backend)");
        }
        List<Map<String, Object>> overrides = new ArrayList<>();
        networkOverrides.forEach((iface, tap) -> overrides.add(Map.of("iface_id", iface, "host_dev_name", tap)));
        Map<String, Object> body = Payloads.object()
                .put("snapshot_path", layout.vmmPath(snapshot))
                .put("mem_backend", Map.of("backend_type", memoryBackend.name(), "backend_path", layout.vmmPath(memory)))
                .put("resume_vm", resumeVm)
                .put("network_overrides", overrides.isEmpty() ? null : overrides)
                .build();
        return new ApiRequest("PUT", "/snapshot/load", "/snapshot/load", body);
    }
}

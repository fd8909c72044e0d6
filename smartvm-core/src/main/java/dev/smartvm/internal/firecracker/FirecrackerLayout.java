package dev.smartvm.internal.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where one Firecracker VM's files are, seen from the host. Without the jailer everything is in
 * the VM directory, which is Firecracker's working directory, and Firecracker is given paths
 * relative to it; under the jailer the API and vsock sockets live inside the chroot, and
 * Firecracker is given paths from the chroot's root. Either way a VM's own files have the same
 * names in every VM: a snapshot records the paths of its drives and vsock socket, and a VM
 * restored from it opens its own files under those names. Saved as {@code firecracker.json} in the VM
 * directory so that another process can attach.
 *
 * @param apiSocket the API socket on the host
 * @param vsockSocket the hybrid vsock socket on the host
 * @param chroot the jail's root directory, or null when not jailed
 */
public record FirecrackerLayout(Path apiSocket, Path vsockSocket, Path chroot) {
    static final String FILE = "firecracker.json";

    /** The unjailed layout of {@code vmDir}. */
    public static FirecrackerLayout plain(Path vmDir) {
        return new FirecrackerLayout(vmDir.resolve("fc.sock"), vmDir.resolve("v.sock"), null);
    }

    /** The path Firecracker itself must be given for a file at {@code hostPath}. */
    public String vmmPath(Path hostPath) {
        if (chroot == null) {
            Path dir = apiSocket.getParent();
            return hostPath.startsWith(dir) ? dir.relativize(hostPath).toString() : hostPath.toString();
        }
        return "/" + chroot.relativize(hostPath);
    }

    /** The host path of a path Firecracker was given: the inverse of {@link #vmmPath}. */
    Path hostPath(String vmmPath) {
        return chroot != null ? chroot.resolve(vmmPath.startsWith("/") ? vmmPath.substring(1) : vmmPath)
                : filesDir().resolve(vmmPath);
    }

    /** The path Firecracker is given for one of the VM's own files (its root disk copy, log, metrics) by its name. */
    String ownFile(String name) {
        return vmmPath(filesDir().resolve(name));
    }

    /** Where Firecracker's own files (its drives, log, metrics) are on the host: the chroot, or the VM directory. */
    Path filesDir() {
        return chroot != null ? chroot : apiSocket.getParent();
    }

    /**
     * The VM's own files where its Firecracker opens them (the VM directory, or the jail): a
     * sparse copy of {@code disk} (if not null) as its root disk, and its log and metrics files.
     * What a boot and a snapshot load both need.
     *
     * @param jailer the jail of this layout, or null
     */
    void stageOwnFiles(Path vmDir, Jailer jailer, Path disk) {
        if (disk != null) {
            Path own = FileTrees.sparseCopy(disk, vmDir.resolve(FirecrackerBackend.ROOT_DISK));
            if (jailer != null) {
                jailer.stage(chroot, own, FirecrackerBackend.ROOT_DISK);
            }
        }
        for (String file : java.util.List.of(FirecrackerBackend.LOG_FILE, FirecrackerBackend.METRICS_FILE)) {
            if (jailer == null) {
                touch(filesDir().resolve(file));
            } else {
                jailer.touch(chroot, file);
            }
        }
    }

    private static void touch(Path file) {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file);
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot create " + file + ": " + e.getMessage(), e);
        }
    }

    /** Removes the sockets, and the jail directory when jailed (the jailer leaves it behind). */
    void removeFiles() {
        try {
            Files.deleteIfExists(apiSocket);
            Files.deleteIfExists(vsockSocket);
            if (chroot != null) {
                FileTrees.delete(chroot.getParent());
            }
        } catch (IOException e) {
            // what is left goes with the VM directory, or is named by the leak checks of the tests
        }
    }

    void save(Path vmDir) {
        Json.write(vmDir.resolve(FILE), new Saved(apiSocket.toString(), vsockSocket.toString(),
                chroot == null ? null : chroot.toString()));
    }

    static FirecrackerLayout load(Path vmDir) {
        Path file = vmDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return plain(vmDir);
        }
        Saved s = Json.read(file, Saved.class);
        return new FirecrackerLayout(Path.of(s.api()), Path.of(s.vsock()), s.chroot() == null ? null : Path.of(s.chroot()));
    }

    private record Saved(String api, String vsock, String chroot) {
    }
}

package dev.smartvm.internal.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Running Firecracker under its jailer: a chroot at {@code <chrootBase>/<exec name>/<id>/root},
 * a uid and gid to drop to, a cgroup (v2 by default) and optionally a network namespace. The
 * files Firecracker opens are hard-linked into the chroot (copied when on another file system)
 * and handed to the jailed user.
 *
 * @param jailerBinary the {@code jailer} program of the same release as Firecracker
 * @param uid the user Firecracker runs as
 * @param gid its group
 * @param chrootBase the directory jails are made under
 * @param cgroupVersion 1 or 2
 * @param parentCgroup the cgroup to nest under, or null for the jailer's default
 * @param netns a network namespace path such as {@code /var/run/netns/sandbox}, or null
 */
public record Jailer(Path jailerBinary, int uid, int gid, Path chrootBase, int cgroupVersion, String parentCgroup,
        Path netns) {
    /** The API socket inside the jail. */
    static final String API_SOCKET = "/run/firecracker.socket";
    private static final Pattern SAFE_CGROUP = Pattern.compile("[A-Za-z0-9_./-]+");

    public Jailer {
        if (uid < 0 || gid < 0) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "jailer uid and gid must be >= 0; found " + uid + ":" + gid);
        }
        if (cgroupVersion != 1 && cgroupVersion != 2) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "jailer cgroup version must be 1 or 2; found " + cgroupVersion);
        }
        if (parentCgroup != null && (!SAFE_CGROUP.matcher(parentCgroup).matches() || parentCgroup.contains(".."))) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "jailer parent cgroup must be a relative path; found '"
                    + parentCgroup + "'");
        }
        if (chrootBase == null || !chrootBase.isAbsolute()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "jailer chroot base must be an absolute path; found " + chrootBase);
        }
    }

    public static Jailer of(Path jailerBinary, int uid, int gid, Path chrootBase) {
        return new Jailer(jailerBinary, uid, gid, chrootBase, 2, null, null);
    }

    /** The jail directory the jailer makes for this VM (removed at the end). */
    Path jailDir(Path firecracker, String vmId) {
        return chrootBase.resolve(firecracker.getFileName().toString()).resolve(vmId);
    }

    /** The chroot: what Firecracker sees as {@code /}. */
    Path chroot(Path firecracker, String vmId) {
        return jailDir(firecracker, vmId).resolve("root");
    }

    FirecrackerLayout layout(Path firecracker, String vmId) {
        Path root = chroot(firecracker, vmId);
        return new FirecrackerLayout(root.resolve(API_SOCKET.substring(1)), root.resolve("v.sock"), root);
    }

    /** jailer's argv; everything after {@code --} goes to Firecracker. */
    List<String> argv(Path firecracker, String vmId) {
        List<String> a = new ArrayList<>(List.of(jailerBinary.toString(),
                "--id", vmId,
                "--exec-file", firecracker.toString(),
                "--uid", Integer.toString(uid),
                "--gid", Integer.toString(gid),
                "--chroot-base-dir", chrootBase.toString(),
                "--cgroup-version", Integer.toString(cgroupVersion)));
        if (parentCgroup != null) {
            a.addAll(List.of("--parent-cgroup", parentCgroup));
        }
        if (netns != null) {
            a.addAll(List.of("--netns", netns.toString()));
        }
        a.addAll(List.of("--", "--api-sock", API_SOCKET));
        return a;
    }

    /**
     * Makes {@code file} visible in the chroot under {@code name}, owned by the jailed user, and
     * returns its host path.
     */
    Path stage(Path chroot, Path file, String name) {
        Path target = chroot.resolve(name);
        try {
            Files.createDirectories(chroot);
            Files.deleteIfExists(target);
            try {
                Files.createLink(target, file);
            } catch (FileSystemException e) {
                Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES);
            }
            chown(target);
            return target;
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot put " + file + " into the jail " + chroot + ": " + e, e);
        }
    }

    /** An empty file in the chroot for Firecracker to write (its log, its metrics). */
    Path touch(Path chroot, String name) {
        Path target = chroot.resolve(name);
        try {
            Files.createDirectories(chroot);
            if (!Files.exists(target)) {
                Files.createFile(target);
            }
            chown(target);
            return target;
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot create " + target + ": " + e, e);
        }
    }

    private void chown(Path p) throws IOException {
        Files.setAttribute(p, "unix:uid", uid);
        Files.setAttribute(p, "unix:gid", gid);
    }

    /** Removes the VM's cgroup v2 directory, which outlives Firecracker. */
    void removeCgroup(Path firecracker, String vmId) {
        if (cgroupVersion != 2) {
            return;
        }
        Path cg = Path.of("/sys/fs/cgroup", parentCgroup != null ? parentCgroup : firecracker.getFileName().toString(), vmId);
        if (Files.isDirectory(cg)) {
            cg.toFile().delete();
        }
    }
}

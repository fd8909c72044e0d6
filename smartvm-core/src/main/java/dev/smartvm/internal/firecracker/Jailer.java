package dev.smartvm.internal.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.Drive;
import dev.smartvm.firecracker.Jail;
import dev.smartvm.firecracker.VmConfig;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * How Firecracker runs under its jailer ({@link Jail}, which holds and checks the settings):
 * its command line, the chroot's paths, what is staged into it, and the cgroup left behind.
 */
public record Jailer(Path jailerBinary, int uid, int gid, Path chrootBase, int cgroupVersion, String parentCgroup,
        Path netns) {
    /** The API socket inside the jail. */
    static final String API_SOCKET = "/run/firecracker.socket";

    public Jailer {
        new Jail(jailerBinary, uid, gid, chrootBase, cgroupVersion, parentCgroup, netns); // checks them
    }

    public static Jailer of(Jail jail) {
        return new Jailer(jail.jailerBinary(), jail.uid(), jail.gid(), jail.chrootBase(), jail.cgroupVersion(),
                jail.parentCgroup(), jail.netns());
    }

    public static Jailer of(Path jailerBinary, int uid, int gid, Path chrootBase) {
        return of(Jail.of(jailerBinary, uid, gid, chrootBase));
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
        return put(chroot, file, name, null);
    }

    /**
     * {@code file} in the chroot as {@code name}, owned by the jailed user: a hard link, else a
     * copy, unless {@code mustLink} names what a copy would not do for (then refused).
     */
    private Path put(Path chroot, Path file, String name, String mustLink) {
        Path target = chroot.resolve(name);
        try {
            Files.createDirectories(chroot);
            Files.deleteIfExists(target);
            try {
                Files.createLink(target, file);
            } catch (FileSystemException e) {
                if (mustLink != null) {
                    throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, mustLink + " (" + file + ") cannot be hard-linked into"
                            + " the jail " + chroot + " (" + e.getReason() + "): a writable one must be on the jail's filesystem,"
                            + " or a copy would lose what the guest writes");
                }
                Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES);
            }
            chown(target);
            return target;
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot put " + file + " into the jail " + chroot + ": " + e, e);
        }
    }

    /** A file of a config file's (a drive's, a pmem device's) and its name in the chroot. */
    record JailedFile(String what, Path host, boolean readOnly, String name) {
    }

    /** A config file's drives as a jailed Firecracker opens them: each linked into the chroot as {@code drive-<id>}. */
    static VmConfig inJail(VmConfig file) {
        List<Drive> drives = file.drives().stream().map(d -> new Drive(d.driveId(), "/" + driveName(d.driveId()),
                d.isRootDevice(), d.isReadOnly(), d.partuuid(), d.cacheType(), d.ioEngine(), d.rateLimiter())).toList();
        return new VmConfig(file.bootSource(), file.machineConfig(), drives, file.networkInterfaces(),
                file.vsock(), file.balloon(), file.mmds(), file.logger(), file.metrics(), file.entropy(), file.serial());
    }

    /** The files of a config file's drives and pmem devices, to link into the jail ({@link #link}). */
    static List<JailedFile> filesOf(VmConfig file, ConfigAsGiven given) {
        List<JailedFile> files = new ArrayList<>();
        file.drives().forEach(d -> files.add(new JailedFile("the drive '" + d.driveId() + "'", Path.of(d.pathOnHost()),
                d.isReadOnly(), driveName(d.driveId()))));
        given.pmem().forEach(p -> files.add(new JailedFile("the pmem device '" + p.path("id").asText() + "'",
                Path.of(p.path("path_on_host").asText()), p.path("read_only").asBoolean(false), pmemName(p.path("id").asText()))));
        return files;
    }

    static String driveName(String id) {
        return "drive-" + id;
    }

    static String pmemName(String id) {
        return "pmem-" + id;
    }

    /**
     * Puts a config file's drive or pmem file into the chroot: a hard link, so that the guest
     * writes the user's file; a read-only one on another filesystem is copied, a writable one
     * refused (a copy would lose its writes).
     */
    void link(Path chroot, JailedFile f) {
        if (!Files.isRegularFile(f.host())) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, f.what() + ": " + f.host() + " does not exist or is not a file");
        }
        put(chroot, f.host(), f.name(), f.readOnly() ? null : f.what());
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

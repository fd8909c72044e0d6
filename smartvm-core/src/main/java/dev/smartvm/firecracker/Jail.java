package dev.smartvm.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Running Firecracker under its jailer ({@code SmartVm.Builder.firecracker}): a chroot at
 * {@code <chrootBase>/<exec name>/<id>/root}, a uid and gid to drop to, a cgroup (v2 by
 * default) and optionally a network namespace. The files Firecracker opens are hard-linked into
 * the chroot (copied when on another file system) and handed to the jailed user.
 *
 * @param jailerBinary the {@code jailer} program of the same release as Firecracker
 * @param uid the user Firecracker runs as
 * @param gid its group
 * @param chrootBase the directory jails are made under
 * @param cgroupVersion 1 or 2
 * @param parentCgroup the cgroup to nest under, or null for the jailer's default
 * @param netns a network namespace path such as {@code /var/run/netns/sandbox}, or null
 */
public record Jail(Path jailerBinary, int uid, int gid, Path chrootBase, int cgroupVersion, String parentCgroup, Path netns) {
    private static final Pattern SAFE_CGROUP = Pattern.compile("[A-Za-z0-9_./-]+");

    public Jail {
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

    /** A jail with cgroup v2, the jailer's default parent cgroup and no network namespace. */
    public static Jail of(Path jailerBinary, int uid, int gid, Path chrootBase) {
        return new Jail(jailerBinary, uid, gid, chrootBase, 2, null, null);
    }
}

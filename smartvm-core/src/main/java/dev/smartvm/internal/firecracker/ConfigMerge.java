package dev.smartvm.internal.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.BootSource;
import dev.smartvm.firecracker.Drive;
import dev.smartvm.firecracker.NetworkInterface;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.firecracker.Vsock;
import dev.smartvm.internal.image.DiskFilesystem;
import dev.smartvm.spi.BootImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A user's Firecracker config file joined to the VM SmartVM makes for its guest agent. The
 * file's kernel boots with SmartVM's initramfs (the agent), its boot args kept and the agent's
 * added after them; its root drive is the root the agent switches to, in place of the image's
 * disk; its vsock is taken over for the agent (SmartVM's socket, the file's guest CID). Its other
 * drives and interfaces are added; its other objects replace SmartVM's.
 */
final class ConfigMerge {
    /** The boot args of a VM whose kernel is the image's. */
    static final String OWN_ARGS = "console=ttyS0 reboot=k panic=-1 pci=off quiet";
    /** What Firecracker boots with when a boot-source has no boot_args (its DEFAULT_KERNEL_CMDLINE). */
    static final String FIRECRACKER_DEFAULT_ARGS = "reboot=k panic=1 pci=off nomodule 8250.nr_uarts=0 i8042.noaux i8042.nomux"
            + " i8042.nopnp i8042.dumbkbd";
    /** The agent's args begin with this, and nothing of a user's can: where a user's args end. */
    private static final String AGENT_ARGS_START = "rdinit=";

    private ConfigMerge() {
    }

    /**
     * What of a user's file decides how the VM boots, checked before anything starts.
     *
     * @param kernel the file's kernel, or null to boot the image's
     * @param bootArgs the file's boot args (Firecracker's default when it has none), or null
     * @param root the file's root drive, or null for the image's disk
     * @param rootFsType the root drive's filesystem, as the agent mounts it
     */
    record UserBoot(Path kernel, String bootArgs, Drive root, String rootFsType) {
        static final UserBoot NONE = new UserBoot(null, null, null, null);

        /** The boot of {@code config}, read from {@code file} (named in an error). */
        static UserBoot of(Path file, VmConfig config) {
            try {
                return of(config);
            } catch (SmartVmException e) {
                throw new SmartVmException(e.code(), file + ": " + e.getMessage(), e);
            }
        }

        static UserBoot of(VmConfig file) {
            BootSource boot = file.bootSource();
            Path kernel = null;
            String args = null;
            if (boot != null) {
                if (boot.initrdPath() != null) {
                    throw bad("boot-source.initrd_path is " + boot.initrdPath() + ": SmartVM boots the kernel with its own"
                            + " initramfs, which runs its guest agent and then switches to the root drive; remove initrd_path"
                            + " (what your initramfs did must be done by the root filesystem)");
                }
                if (boot.kernelImagePath() == null) {
                    throw bad("boot-source needs kernel_image_path");
                }
                kernel = Path.of(boot.kernelImagePath()).toAbsolutePath();
                if (!Files.isRegularFile(kernel)) {
                    throw bad("boot-source.kernel_image_path " + kernel + " does not exist or is not a file");
                }
                args = boot.bootArgs() == null ? FIRECRACKER_DEFAULT_ARGS : boot.bootArgs();
                join(args, AGENT_ARGS_START + "/init"); // what the VM's own args (its network's) cannot change is checked now
            }
            List<Drive> roots = file.drives().stream().filter(Drive::isRootDevice).toList();
            if (roots.size() > 1) { // Firecracker would refuse the second only once started
                throw bad("the config has two root drives (" + String.join(", ", roots.stream().map(Drive::driveId).toList())
                        + "): Firecracker takes one; set is_root_device false on all but one");
            }
            Drive root = roots.isEmpty() ? null : roots.get(0);
            String fs = null;
            if (root != null) {
                if (root.partuuid() != null) {
                    throw bad("the root drive '" + root.driveId() + "' has a partuuid: SmartVM's agent mounts the root drive"
                            + " whole; give the filesystem image of that partition and drop partuuid");
                }
                fs = DiskFilesystem.of(Path.of(root.pathOnHost()).toAbsolutePath(), "the root drive '" + root.driveId() + "'");
            }
            return new UserBoot(kernel, args, root, fs);
        }

        /** The agent's args for its root: the file's root drive, first of the drives so /dev/vda, else the image's. */
        String rootArgs(String imageRootArgs) {
            return root == null ? imageRootArgs : BootImage.rootKernelArgs(rootFsType, root.isReadOnly());
        }

        /** The boot args: the file's (else SmartVM's own), then the agent's. */
        String bootArgs(String agentArgs) {
            return kernel == null ? OWN_ARGS + " " + agentArgs : join(bootArgs, agentArgs);
        }
    }

    /**
     * A user's boot args with the agent's after them. An arg the agent also sets is dropped when
     * it has the same value and refused when it has another; an {@code init=} (the agent is the
     * guest's init) and a {@code smartvm.} arg of the user's own are refused.
     */
    static String join(String user, String agentArgs) {
        Map<String, String> agent = new LinkedHashMap<>();
        for (String t : agentArgs.trim().split("\\s+")) {
            agent.put(key(t), t);
        }
        List<String> kept = new ArrayList<>();
        for (String t : user.trim().split("\\s+")) {
            String k = key(t);
            if (t.isEmpty() || t.equals(agent.get(k))) {
                continue;
            }
            if (agent.containsKey(k)) {
                throw bad("boot-source.boot_args sets " + t + ", but SmartVM's guest agent needs " + agent.get(k) + ": remove "
                        + k + " from boot_args");
            }
            if (k.equals("init") || k.startsWith("smartvm.")) {
                throw bad("boot-source.boot_args sets " + t + (k.equals("init") ? ", which would not run: SmartVM's guest agent"
                        + " is the guest's init (it runs commands inside the root drive)" : ", an argument SmartVM sets itself")
                        + ": remove it");
            }
            kept.add(t);
        }
        kept.add(agentArgs.trim());
        return String.join(" ", kept);
    }

    /** The user's part of boot args {@link #join} made: what comes before the agent's. */
    static String userArgs(String bootArgs) {
        int at = (" " + bootArgs).indexOf(" " + AGENT_ARGS_START);
        return at < 0 ? bootArgs : bootArgs.substring(0, at).trim();
    }

    /** What a user is told of the vsock of their file. */
    static String vsockNotice(Path file, Vsock vsock) {
        return "notice: " + file + ": the vsock is taken over for SmartVM's guest agent: guest_cid " + vsock.guestCid()
                + " is kept; uds_path " + vsock.udsPath() + " becomes the VM's own socket (v.sock in its directory)";
    }

    private static String key(String arg) {
        int eq = arg.indexOf('=');
        return eq < 0 ? arg : arg.substring(0, eq);
    }

    /**
     * SmartVM's configuration (its boot source final, its drives the image's root or none) with
     * the file's drives (the root first, so /dev/vda) and interfaces added, the file's guest CID
     * on SmartVM's vsock, and the file's other objects in place of SmartVM's.
     */
    static VmConfig merge(VmConfig own, VmConfig file) {
        List<Drive> drives = new ArrayList<>(own.drives());
        drives.addAll(file.drives());
        drives.sort(Comparator.comparing(d -> !d.isRootDevice()));
        List<String> roots = drives.stream().filter(Drive::isRootDevice).map(Drive::driveId).toList();
        if (roots.size() > 1) {
            throw bad("the VM would have two root drives (" + String.join(", ", roots) + "): Firecracker takes one");
        }
        List<NetworkInterface> nics = new ArrayList<>(own.networkInterfaces());
        nics.addAll(file.networkInterfaces());
        Vsock vsock = own.vsock() == null || file.vsock() == null ? own.vsock()
                : new Vsock(file.vsock().guestCid(), own.vsock().udsPath());
        return new VmConfig(own.bootSource(), pick(file.machineConfig(), own.machineConfig()), drives, nics, vsock,
                pick(file.balloon(), own.balloon()), pick(file.mmds(), own.mmds()), pick(file.logger(), own.logger()),
                pick(file.metrics(), own.metrics()), pick(file.entropy(), own.entropy()), pick(file.serial(), own.serial()));
    }

    private static <T> T pick(T preferred, T otherwise) {
        return preferred != null ? preferred : otherwise;
    }

    private static SmartVmException bad(String message) {
        return new SmartVmException(ErrorCode.INVALID_ARGUMENT, message);
    }
}

package dev.smartvm.cli;

import dev.smartvm.SmartVm;
import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.qemu.AccelerationProbe;
import dev.smartvm.internal.qemu.QemuBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "doctor", description = "Says what this host has and lacks for SmartVM, and how to fix each.")
final class DoctorCommand implements Callable<Integer> {
    private int problems;

    @Override
    public Integer call() {
        Path home = SmartVm.Builder.defaultHome();
        Optional<String> qemu = QemuBackend.findQemu();
        check("qemu", qemu.isPresent(), qemu.map(q -> q + " (" + firstLine(List.of(q, "--version")) + ")").orElse("not found"),
                "apt-get install qemu-system-x86", true);
        String kvm = AccelerationProbe.forHost(home.resolve("accel.json")).kvmUnusableReason();
        report(kvm == null ? "ok" : "info", "kvm", kvm == null ? "/dev/kvm looks usable; the first VM confirms it with a probe boot"
                : "not used: " + kvm + "; VMs run under TCG (slower, fully working)", null);
        report("info", "firecracker", "--backend firecracker needs KVM (" + (kvm == null ? "present" : kvm) + ") and plans for Firecracker "
                + dev.smartvm.internal.firecracker.FirecrackerBackend.installedVersion()
                + "; without $SMARTVM_FIRECRACKER or firecracker on the PATH the release is fetched on first use", null);
        report("info", "smolvm", smolvm(), null);
        check("jdk", Runtime.version().feature() >= 21, "Java " + Runtime.version(), "install a JDK 21 or newer", true);
        check("apt", Files.isExecutable(Path.of("/usr/bin/apt-get")) && Files.isExecutable(Path.of("/usr/bin/dpkg-deb")),
                "apt-get and dpkg-deb build the default image from Debian packages", "a Debian or Ubuntu host", true);
        boolean lists = CommandRunner.system().run(List.of("apt-cache", "show", "--no-all-versions", "busybox-static"),
                null, Duration.ofSeconds(30)).exitCode() == 0;
        check("apt lists", lists, lists ? "package lists present" : "apt knows no busybox-static", "apt-get update", true);
        check("tun", Files.exists(Path.of("/dev/net/tun")), "/dev/net/tun (for --net on the bridge)", "modprobe tun", false);
        check("nft", Files.isExecutable(Path.of("/usr/sbin/nft")), "nftables (for --net on the bridge, egress rules, published ports)", "apt-get install nftables", false);
        check("mkfs.ext4", Files.isExecutable(Path.of("/usr/sbin/mkfs.ext4")) || Files.isExecutable(Path.of("/sbin/mkfs.ext4")),
                "e2fsprogs (for root-disk images)", "apt-get install e2fsprogs", false);
        report(Files.isExecutable(Path.of("/usr/bin/mmdebstrap")) ? "ok" : "info", "mmdebstrap",
                "for --image debian and 'images build debian'", Files.isExecutable(Path.of("/usr/bin/mmdebstrap")) ? null
                        : "apt-get install mmdebstrap");
        report(Files.isExecutable(Path.of("/usr/bin/unsquashfs")) ? "ok" : "info", "squashfs",
                "for --image firecracker-ci:lts|latest", Files.isExecutable(Path.of("/usr/bin/unsquashfs")) ? null
                        : "apt-get install squashfs-tools");
        check("home", Files.isWritable(existingParent(home)), home.toString(), "set SMARTVM_HOME to a writable directory", true);
        System.out.println(problems == 0 ? "ready: 'smartvm run -- uname -a' should work" : problems + " problem(s) to fix first");
        return problems == 0 ? 0 : 1;
    }

    /** What --backend smolvm would use. */
    private static String smolvm() {
        try {
            dev.smartvm.internal.smolvm.SmolvmCli cli = dev.smartvm.internal.smolvm.SmolvmCli.locate(System.getenv("SMARTVM_SMOLVM"),
                    CommandRunner.system());
            return "--backend smolvm runs " + cli.binary() + ", smolvm " + cli.version();
        } catch (dev.smartvm.SmartVmException e) {
            return "--backend smolvm: " + e.getMessage();
        }
    }

    /** The path itself if it exists, else its nearest existing ancestor. */
    private static Path existingParent(Path p) {
        Path q = p.toAbsolutePath();
        while (q != null && !Files.exists(q)) {
            q = q.getParent();
        }
        return q == null ? Path.of("/") : q;
    }

    private void check(String what, boolean ok, String detail, String fix, boolean required) {
        if (!ok && required) {
            problems++;
        }
        report(ok ? "ok" : required ? "missing" : "warn", what, detail, ok ? null : fix);
    }

    private static void report(String status, String what, String detail, String fix) {
        System.out.printf("%-8s %-10s %s%s%n", status, what, detail, fix == null ? "" : "  (fix: " + fix + ")");
    }

    private static String firstLine(List<String> argv) {
        CommandResult r = CommandRunner.system().run(argv, null, Duration.ofSeconds(10));
        return r.stdout().lines().findFirst().orElse("?");
    }
}

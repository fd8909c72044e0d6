package dev.smartvm.internal.vm;

import dev.smartvm.AdmissionPolicy;
import dev.smartvm.DownloadListener;
import dev.smartvm.HostCheck;
import dev.smartvm.NameResolver;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.firecracker.FirecrackerBinaries;
import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.qemu.AccelerationProbe;
import dev.smartvm.internal.qemu.QemuBackend;
import dev.smartvm.internal.smolvm.SmolvmCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What this host has and lacks for SmartVM, and how to fix each ({@code smartvm doctor}). */
public final class HostChecks {
    private final List<HostCheck> found = new ArrayList<>();
    private final CommandRunner runner = CommandRunner.system();

    private HostChecks() {
    }

    /**
     * Every check, for a SmartVm whose home is {@code home}, then the own checks of each engine of
     * {@code backends} (found as a SmartVm finds them). Runs a few short commands; starts no VM.
     */
    public static List<HostCheck> run(Path home, List<String> backends) {
        HostChecks c = new HostChecks();
        c.all(home);
        if (!backends.isEmpty()) {
            VmContext context = Homes.open(new Homes.Settings(home, null, CommandRunner.system(), n -> { },
                    DownloadListener.NONE, NameResolver.system(), AdmissionPolicy.fromEnvironment(), List.of(), false), id -> { });
            for (String name : backends) {
                c.found.addAll(context.backend(name).checks());
            }
        }
        return List.copyOf(c.found);
    }

    private void all(Path home) {
        Optional<String> qemu = QemuBackend.findQemu();
        check("qemu", qemu.isPresent(), qemu.map(q -> q + " (" + firstLine(List.of(q, "--version")) + ")").orElse("not found"),
                "apt-get install qemu-system-x86", true);
        String kvm = AccelerationProbe.forHost(home.resolve("accel.json")).kvmUnusableReason();
        report(kvm == null ? "ok" : "info", "kvm", kvm == null ? "/dev/kvm looks usable; the first VM confirms it with a probe boot"
                : "not used: " + kvm + "; VMs run under TCG (slower, fully working)", null);
        report("info", "firecracker", "--backend firecracker needs KVM (" + (kvm == null ? "present" : kvm) + ") and plans for"
                + " Firecracker " + FirecrackerBinaries.installedVersion()
                + "; without $SMARTVM_FIRECRACKER or firecracker on the PATH the release is fetched on first use", null);
        report("info", "smolvm", smolvm(), null);
        check("jdk", Runtime.version().feature() >= 21, "Java " + Runtime.version(), "install a JDK 21 or newer", true);
        check("apt", Files.isExecutable(Path.of("/usr/bin/apt-get")) && Files.isExecutable(Path.of("/usr/bin/dpkg-deb")),
                "apt-get and dpkg-deb build the default image from Debian packages", "a Debian or Ubuntu host", true);
        boolean lists = runner.run(List.of("apt-cache", "show", "--no-all-versions", "busybox-static"),
                null, Duration.ofSeconds(30)).exitCode() == 0;
        check("apt lists", lists, lists ? "package lists present" : "apt knows no busybox-static", "apt-get update", true);
        check("tun", Files.exists(Path.of("/dev/net/tun")), "/dev/net/tun (for --net on the bridge)", "modprobe tun", false);
        check("nft", Files.isExecutable(Path.of("/usr/sbin/nft")), "nftables (for --net on the bridge, egress rules, published"
                + " ports)", "apt-get install nftables", false);
        check("mkfs.ext4", Files.isExecutable(Path.of("/usr/sbin/mkfs.ext4")) || Files.isExecutable(Path.of("/sbin/mkfs.ext4")),
                "e2fsprogs (for root-disk images)", "apt-get install e2fsprogs", false);
        optional("mmdebstrap", Path.of("/usr/bin/mmdebstrap"), "for --image debian and 'images build debian'",
                "apt-get install mmdebstrap");
        optional("squashfs", Path.of("/usr/bin/unsquashfs"), "for --image firecracker-ci:lts|latest",
                "apt-get install squashfs-tools");
        check("home", Files.isWritable(existingParent(home)), home.toString(), "set SMARTVM_HOME to a writable directory", true);
    }

    /** What --backend smolvm would use. */
    private String smolvm() {
        try {
            SmolvmCli cli = SmolvmCli.locate(System.getenv("SMARTVM_SMOLVM"), runner);
            return "--backend smolvm runs " + cli.binary() + ", smolvm " + cli.version();
        } catch (SmartVmException e) {
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

    private void optional(String what, Path program, String detail, String fix) {
        boolean present = Files.isExecutable(program);
        report(present ? "ok" : "info", what, detail, present ? null : fix);
    }

    private void check(String what, boolean ok, String detail, String fix, boolean required) {
        report(ok ? "ok" : required ? "missing" : "warn", what, detail, ok ? null : fix);
    }

    private void report(String status, String what, String detail, String fix) {
        found.add(new HostCheck(status, what, detail, fix));
    }

    private String firstLine(List<String> argv) {
        CommandResult r = runner.run(argv, null, Duration.ofSeconds(10));
        return r.stdout().lines().findFirst().orElse("?");
    }
}

package dev.smartvm.cli;

import dev.smartvm.Acceleration;
import dev.smartvm.BootPlan;
import dev.smartvm.ExecRequest;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.VmSpec;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The measurements behind {@code smartvm bench}. */
final class Benchmarks {
    record Stats(double[] millis) {
        double median() {
            return percentile(50);
        }

        double p99() {
            return percentile(99);
        }

        double percentile(int p) {
            double[] s = millis.clone();
            Arrays.sort(s);
            int i = (int) Math.ceil(p / 100.0 * s.length) - 1;
            return s[Math.max(0, Math.min(s.length - 1, i))];
        }
    }

    private final SmartVm svm;

    Benchmarks(SmartVm svm) {
        this.svm = svm;
    }

    static String machine() {
        return Runtime.getRuntime().availableProcessors() + " cores, TCG";
    }

    /** The JIT competes with TCG for the CPUs while it warms up: get that out of the way first. */
    void warmUp() throws IOException, InterruptedException {
        for (int i = 0; i < 3; i++) {
            libraryRun();
        }
        plainQemuRun(0);
    }

    /** Library and floor boots alternate, so that both see the same machine. */
    Stats[] coldRuns(int n) throws IOException, InterruptedException {
        double[] library = new double[n];
        double[] floor = new double[n];
        for (int i = 0; i < n; i++) {
            library[i] = libraryRun();
            floor[i] = plainQemuRun(i);
        }
        return new Stats[] {new Stats(library), new Stats(floor)};
    }

    /** What 'smartvm run -- true' does inside the JVM: create, boot, exec, stop, remove. */
    private double libraryRun() {
        long t0 = System.nanoTime();
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            vm.exec("true");
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    /** {@code smartvm run -- true} as a user types it: a new JVM each time. */
    Stats cliRuns(int n) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().getPath()).toString();
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar, "run", "--", "true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("smartvm run -- true exited with " + p.exitValue());
            }
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        return new Stats(t);
    }

    /**
     * The floor: QEMU started by hand with the very command line SmartVM would run (its plan:
     * the same kernel, initramfs and devices), timed until the agent answered its handshake,
     * then killed.
     */
    private double plainQemuRun(int i) throws IOException, InterruptedException {
        BootPlan plan = svm.plan(VmSpec.builder().acceleration(Acceleration.TCG).build());
        Path dir = Files.createDirectories(svm.home().resolve("vms").resolve(BootPlan.PLANNED_ID));
        try {
            Path sock = RawClone.socketOf(plan.commandLine(), "socket,id=agent,path=");
            // the serial console goes to fd 3 (SmartVM's log writer): here, a file
            List<String> argv = new ArrayList<>(List.of("sh", "-c", "exec \"$@\" 3>\"$0\"", dir.resolve("console").toString()));
            argv.addAll(plan.commandLine());
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("qemu.log").toFile()).start();
            try {
                handshake(sock);
                return (System.nanoTime() - t0) / 1e6;
            } finally {
                p.destroyForcibly();
                p.waitFor();
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void handshake(Path sock) throws IOException, InterruptedException {
        SocketChannel ch = null;
        for (int i = 0; i < 6000 && ch == null; i++) {
            try {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(UnixDomainSocketAddress.of(sock));
            } catch (IOException e) {
                ch.close();
                ch = null;
                Thread.sleep(5);
            }
        }
        if (ch == null) {
            throw new IOException("no agent socket " + sock);
        }
        try (SocketChannel c = ch) {
            byte[] nonce = new byte[16];
            new SecureRandom().nextBytes(nonce);
            c.write(ByteBuffer.wrap(ByteBuffer.allocate(28).put("SMVMHELO".getBytes()).put(nonce).putInt(1).array()));
            ByteBuffer in = ByteBuffer.allocate(256);
            while (in.position() < 9 + 16 && c.read(in) >= 0) {
                // the hello frame carries the nonce after its 9-byte header
            }
        }
    }

    Stats execRoundTrips(MicroVm vm, int n) {
        double[] t = new double[n];
        ExecRequest trueCmd = ExecRequest.of("true");
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            vm.exec(trueCmd);
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        return new Stats(t);
    }

    Stats pingRoundTrips(MicroVm vm, int n) {
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = vm.ping().toNanos() / 1e6;
        }
        return new Stats(t);
    }

    /** MB/s (10^6 bytes) into and out of the guest, for a file of {@code mib} MiB in the guest's tmpfs. */
    double[] copyThroughput(MicroVm vm, int mib) throws IOException {
        Path dir = Files.createTempDirectory("svcopy");
        try {
            Path src = dir.resolve("in.bin");
            byte[] block = new byte[1 << 20];
            new SecureRandom().nextBytes(block);
            try (var out = Files.newOutputStream(src)) {
                for (int i = 0; i < mib; i++) {
                    out.write(block);
                }
            }
            long bytes = (long) mib << 20;
            long t0 = System.nanoTime();
            vm.copyTo(src, "/tmp/bench.bin");
            double in = bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
            long t1 = System.nanoTime();
            vm.copyFrom("/tmp/bench.bin", dir.resolve("out.bin"));
            double out = bytes / 1e6 / ((System.nanoTime() - t1) / 1e9);
            vm.exec("rm", "/tmp/bench.bin");
            return new double[] {in, out};
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    static long rssKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        return -1;
    }
}

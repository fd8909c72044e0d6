package dev.smartvm.cli;

import dev.smartvm.AdmissionPolicy;
import dev.smartvm.ExecResult;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.VmSpec;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Not a test: measures this machine and prints one table. */
@Command(name = "bench", description = "Measures boot, exec and copy on this machine and prints a table.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--boots", description = "Cold boots to take the median of (default ${DEFAULT-VALUE}).")
    int boots = 5;

    @Option(names = "--execs", description = "Exec round trips to measure (default ${DEFAULT-VALUE}).")
    int execs = 200;

    @Option(names = "--copy-mib", description = "Size of the copy test file (default ${DEFAULT-VALUE}).")
    int copyMib = 64;

    @Option(names = "--snapshots", description = {"Measure snapshots, templates, fork and idle clones instead,",
            "each beside its floor where it has one."})
    boolean snapshots;

    @Option(names = "--clones", description = "Idle clones to start for the memory figure (default ${DEFAULT-VALUE}).")
    int clones = 50;

    @Override
    public Integer call() throws Exception {
        if (snapshots) {
            return snapshotBench();
        }
        try (SmartVm svm = Session.open()) {
            Benchmarks b = new Benchmarks(svm);
            b.warmUp();
            Benchmarks.Stats[] cold = b.coldRuns(boots);
            Benchmarks.Stats library = cold[0];
            Benchmarks.Stats floor = cold[1];
            Benchmarks.Stats cli = b.cliRuns(boots);
            // the guest's /tmp holds a quarter of its memory: enough for the copy test's file
            VmSpec spec = VmSpec.builder().name("bench-" + ProcessHandle.current().pid())
                    .memoryMib(Math.max(256, copyMib * 4 + 64)).build();
            try (MicroVm vm = svm.start(spec)) {
                for (int i = 0; i < 50; i++) { // steady state: the JIT and TCG's translation cache are warm
                    ExecResult warm = vm.exec("true");
                    if (warm.exitCode() != 0) {
                        throw new IllegalStateException("true failed in the guest: " + warm.stderr());
                    }
                }
                Benchmarks.Stats exec = b.execRoundTrips(vm, execs);
                Benchmarks.Stats ping = b.pingRoundTrips(vm, execs);
                double[] copy = b.copyThroughput(vm, copyMib);
                Thread.sleep(2000);
                long rssKib = Benchmarks.rssKib(vm.info().pid());
                System.out.println();
                System.out.printf("%-46s %12s%n", "measure (" + Benchmarks.machine() + ")", "value");
                row("run -- true in the library (median of " + boots + ")", library.median(), "ms");
                row("same boot, plain qemu command line (median)", floor.median(), "ms");
                System.out.printf("%-46s %11.1f%%%n", "library overhead over the floor", 100.0 * (library.median() / floor.median() - 1));
                row("smartvm run -- true, new JVM each (median)", cli.median(), "ms");
                row("exec 'true' round trip p50 (" + execs + " runs)", exec.median(), "ms");
                row("exec 'true' round trip p99", exec.p99(), "ms");
                row("agent ping round trip p50", ping.median(), "ms");
                row("copy into the guest (" + copyMib + " MiB)", copy[0], "MB/s");
                row("copy from the guest (" + copyMib + " MiB)", copy[1], "MB/s");
                row("idle VM: QEMU RSS", rssKib / 1024.0, "MiB");
                row("idle VM: QEMU RSS beyond guest RAM (" + spec.memoryMib() + " MiB)", rssKib / 1024.0 - spec.memoryMib(), "MiB");
            }
        }
        return 0;
    }

    private int snapshotBench() throws Exception {
        // idle clones take no CPU: the vCPU limit is lifted for them, the memory limit kept
        AdmissionPolicy admission = new AdmissionPolicy(0, AdmissionPolicy.fromEnvironment().maxMemoryPercent());
        try (SmartVm svm = Session.builder().admission(admission).build()) {
            String template = "bench-" + ProcessHandle.current().pid();
            svm.createTemplate(template, VmSpec.builder().build(), java.util.List.of("true"));
            try {
                Benchmarks b = new Benchmarks(svm);
                SnapshotBench sb = new SnapshotBench(svm, template);
                b.warmUp();
                sb.cloneRuns(2); // the JIT, and the host's page cache of the template's memory
                Benchmarks.Stats cold = b.coldRuns(boots)[0];
                Benchmarks.Stats[] clone = sb.cloneRuns(boots);
                Benchmarks.Stats pool = sb.poolHandoffs(Session.builder().admission(admission), boots);
                double[] save = sb.snapshotSaves(boots);
                double fork = sb.forks(3, 10);
                double[] hostMib = new double[1];
                java.util.List<SnapshotBench.Memory> idle = sb.idleClones(clones, hostMib);
                double pss = idle.stream().mapToDouble(SnapshotBench.Memory::pssMib).sorted().toArray()[idle.size() / 2];
                double uss = idle.stream().mapToDouble(SnapshotBench.Memory::ussMib).sorted().toArray()[idle.size() / 2];
                System.out.println();
                System.out.printf("%-46s %12s%n", "measure (" + Benchmarks.machine() + ", median of " + boots + ")", "value");
                row("cold run -- true in the library", cold.median(), "ms");
                row("template clone to first exec, library", clone[0].median(), "ms");
                row("template clone to first exec, raw QEMU floor", clone[1].median(), "ms");
                row("clone: library / floor", clone[0].median() / clone[1].median(), "x");
                row("clone: faster than cold by", cold.median() / clone[0].median(), "x");
                row("pool handoff to first exec", pool.median(), "ms");
                row("snapshot save, 256 MiB VM", save[0], "ms");
                row("snapshot size", save[1] / 1e6, "MB");
                row("fork into 10 running children (median of 3)", fork, "ms");
                row(clones + " idle clones: PSS per clone (median)", pss, "MiB");
                row(clones + " idle clones: USS per clone (median)", uss, "MiB");
                row(clones + " idle clones: host memory used in all", hostMib[0], "MiB");
            } finally {
                svm.removeTemplate(template);
            }
        }
        return 0;
    }

    private static void row(String what, double value, String unit) {
        System.out.printf("%-46s %9.2f %s%n", what, value, unit);
    }

    static Duration ms(double v) {
        return Duration.ofNanos((long) (v * 1e6));
    }
}

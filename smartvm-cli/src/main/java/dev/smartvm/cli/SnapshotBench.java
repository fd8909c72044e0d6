package dev.smartvm.cli;

import dev.smartvm.BootPlan;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.SnapshotInfo;
import dev.smartvm.TemplateInfo;
import dev.smartvm.VmSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The measurements behind {@code smartvm bench --snapshots}: snapshots, templates, the pool, fork, idle clones. */
final class SnapshotBench {
    /** Host memory of one process, from {@code /proc/PID/smaps_rollup}. */
    record Memory(double pssMib, double ussMib) {
    }

    private final SmartVm svm;
    private final String template;

    SnapshotBench(SmartVm svm, String template) {
        this.svm = svm;
        this.template = template;
    }

    /** Clone to first exec through the library, and the raw floor (same command line and QMP sequence), alternating. */
    Benchmarks.Stats[] cloneRuns(int n) throws IOException, InterruptedException {
        double[] library = new double[n];
        double[] floor = new double[n];
        for (int i = 0; i < n; i++) {
            library[i] = libraryClone();
            floor[i] = rawClone();
        }
        return new Benchmarks.Stats[] {new Benchmarks.Stats(library), new Benchmarks.Stats(floor)};
    }

    private double libraryClone() {
        long t0 = System.nanoTime();
        try (MicroVm vm = svm.start(VmSpec.builder().template(template).build())) {
            vm.exec("true");
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    private double rawClone() throws IOException, InterruptedException {
        BootPlan plan = svm.plan(VmSpec.builder().template(template).build());
        TemplateInfo t = svm.templates().stream().filter(x -> x.name().equals(template)).findFirst().orElseThrow();
        Path dir = Files.createDirectories(svm.home().resolve("vms").resolve(BootPlan.PLANNED_ID));
        try {
            return RawClone.run(plan.commandLine(), dir, t.directory().resolve("state.bin"));
        } finally {
            RawClone.clean(dir);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * A pooled clone handed out to its first exec (median of {@code n}): a second SmartVm on the
     * home, made by {@code builder} with a pool of one, refilled between handoffs.
     */
    Benchmarks.Stats poolHandoffs(SmartVm.Builder builder, int n) throws InterruptedException {
        double[] t = new double[n];
        try (SmartVm pooling = builder.pool(template, 1).build()) {
            for (int i = 0; i < n; i++) {
                while (pooling.list().stream().noneMatch(v -> v.state() == dev.smartvm.VmState.PAUSED)) {
                    Thread.sleep(20);
                }
                long t0 = System.nanoTime();
                try (MicroVm vm = pooling.start(VmSpec.builder().template(template).build())) {
                    vm.exec("true");
                    t[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
        }
        return new Benchmarks.Stats(t);
    }

    /** A fork of one running VM into {@code children}: milliseconds until they all run (median of {@code n}). */
    double forks(int n, int children) {
        double[] t = new double[n];
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            vm.exec("true");
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                List<MicroVm> kids = vm.fork(children);
                t[i] = (System.nanoTime() - t0) / 1e6;
                kids.forEach(MicroVm::close);
            }
        }
        return new Benchmarks.Stats(t).median();
    }

    /** Saves of one running VM (median of {@code n}): milliseconds each, and the size of the last. */
    double[] snapshotSaves(int n) {
        double[] t = new double[n];
        long size = 0;
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            vm.exec("true");
            for (int i = 0; i < n; i++) {
                String name = "bench-" + ProcessHandle.current().pid() + "-" + i;
                long t0 = System.nanoTime();
                SnapshotInfo s = vm.snapshot(name);
                t[i] = (System.nanoTime() - t0) / 1e6;
                size = s.sizeBytes();
                svm.removeSnapshot(name);
            }
        }
        return new double[] {new Benchmarks.Stats(t).median(), size};
    }

    /**
     * Starts {@code n} clones and lets them idle; returns each one's QEMU memory, and the host
     * memory they took in all (MemAvailable before and after, MiB).
     */
    List<Memory> idleClones(int n, double[] hostMib) throws IOException, InterruptedException {
        long before = memAvailableKib();
        List<MicroVm> clones = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                clones.add(svm.start(VmSpec.builder().template(template).build()));
            }
            for (MicroVm vm : clones) {
                vm.exec("true");
            }
            Thread.sleep(3000); // idle
            hostMib[0] = (before - memAvailableKib()) / 1024.0;
            List<Memory> out = new ArrayList<>();
            for (MicroVm vm : clones) {
                out.add(memory(vm.info().pid()));
            }
            return out;
        } finally {
            clones.forEach(MicroVm::close);
        }
    }

    static Memory memory(long pid) throws IOException {
        long pss = 0;
        long uss = 0;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
            if (line.startsWith("Pss:")) {
                pss = kib(line);
            } else if (line.startsWith("Private_Clean:") || line.startsWith("Private_Dirty:")) {
                uss += kib(line);
            }
        }
        return new Memory(pss / 1024.0, uss / 1024.0);
    }

    private static long kib(String line) {
        return Long.parseLong(line.replaceAll("\\D+", ""));
    }

    private static long memAvailableKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemAvailable:")) {
                return kib(line);
            }
        }
        throw new IOException("no MemAvailable in /proc/meminfo");
    }
}

package dev.smartvm.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.GuestUsage;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmInfo;
import dev.smartvm.VmStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "stats", description = {"Shows what running and paused VMs use: vCPU time and CPU % (100 = one host"
        + " CPU), guest memory used of its total (from the agent), the VMM's resident (RSS) and proportional (PSS) host"
        + " memory, the disk blocks of the VM's writable disk, and the bytes the guest received and sent on its TAP."})
final class StatsCommand implements Callable<Integer> {
    @Parameters(paramLabel = "VM", arity = "0..*", description = "The VMs (names or id prefixes); every running or paused"
            + " VM when none is given.")
    List<String> names = new ArrayList<>();

    @Option(names = "--json", description = "A JSON array of {id, name, cpuPercent, cpuTimeMs, memoryUsedBytes,"
            + " memoryTotalBytes, memoryAvailableBytes, activeRequests, idleMs, vmmRssBytes, vmmPssBytes, diskBytes,"
            + " networkInBytes, networkOutBytes}; unknown figures are null. With --watch, one array per line.")
    boolean json;

    @Option(names = {"-w", "--watch"}, description = "Sample again every --interval until interrupted (Ctrl-C).")
    boolean watch;

    @Option(names = "--interval", paramLabel = "DUR", defaultValue = "2s", description = "Time between samples with"
            + " --watch (default ${DEFAULT-VALUE}).")
    String interval;

    @Override
    public Integer call() throws InterruptedException {
        Duration every = Durations.parse(interval);
        try (SmartVm svm = Session.open(); ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<MicroVm> vms = new ArrayList<>();
            if (names.isEmpty()) {
                for (VmInfo v : svm.list()) {
                    if (v.state().isActive()) {
                        svm.get(v.id()).ifPresent(vms::add);
                    }
                }
            } else {
                names.forEach(n -> vms.add(Session.find(svm, n)));
            }
            boolean terminal = System.console() != null && !json;
            while (true) {
                List<VmStats> rows = sample(vms, pool, !names.isEmpty());
                if (terminal && watch) {
                    System.out.print("\033[H\033[2J");
                }
                print(rows);
                if (!watch) {
                    return 0;
                }
                Thread.sleep(every);
            }
        }
    }

    /** Every VM's stats, sampled at once (a handle's first sample takes a moment); named VMs must be running or paused. */
    private static List<VmStats> sample(List<MicroVm> vms, ExecutorService pool, boolean named) throws InterruptedException {
        List<Future<VmStats>> futures = new ArrayList<>();
        for (MicroVm vm : vms) {
            futures.add(pool.submit(vm::stats));
        }
        List<VmStats> rows = new ArrayList<>();
        for (Future<VmStats> f : futures) {
            try {
                rows.add(f.get());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof SmartVmException && !named) {
                    continue; // stopped or removed since it was listed
                }
                throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
            }
        }
        return rows;
    }

    private void print(List<VmStats> rows) {
        if (json) {
            ArrayNode out = CliJson.array();
            rows.forEach(s -> row(out.addObject(), s));
            System.out.println(watch ? out.toString() : CliJson.text(out)); // a watch's samples: one line each
            System.out.flush();
            return;
        }
        String fmt = "%-20s %7s %9s %21s %9s %9s %9s %19s%n";
        System.out.printf(fmt, "NAME", "CPU %", "CPU TIME", "GUEST MEM USED/TOTAL", "VMM RSS", "VMM PSS", "DISK", "NET IN/OUT");
        for (VmStats s : rows) {
            GuestUsage g = s.guest();
            System.out.printf(fmt, s.name(), String.format("%.1f%%", s.cpuPercent()),
                    String.format("%.2fs", s.cpuTime().toMillis() / 1000.0),
                    g == null ? "-" : bytes(g.memoryUsedBytes()) + " / " + bytes(g.memoryTotalBytes()),
                    bytes(s.vmmRssBytes()), bytes(s.vmmPssBytes()), bytes(s.diskBytes()),
                    s.networkInBytes() < 0 ? "-" : bytes(s.networkInBytes()) + " / " + bytes(s.networkOutBytes()));
        }
        System.out.flush();
    }

    private static void row(ObjectNode o, VmStats s) {
        GuestUsage g = s.guest();
        o.put("id", s.id()).put("name", s.name()).put("sampledAt", s.sampledAt().toString())
                .put("cpuPercent", Math.round(s.cpuPercent() * 10) / 10.0).put("cpuTimeMs", s.cpuTime().toMillis())
                .put("memoryUsedBytes", g == null ? null : g.memoryUsedBytes())
                .put("memoryTotalBytes", g == null ? null : g.memoryTotalBytes())
                .put("memoryAvailableBytes", g == null ? null : g.memoryAvailableBytes())
                .put("activeRequests", g == null ? null : g.activeRequests())
                .put("idleMs", g == null ? null : g.idle().toMillis())
                .put("vmmRssBytes", known(s.vmmRssBytes())).put("vmmPssBytes", known(s.vmmPssBytes()))
                .put("diskBytes", known(s.diskBytes())).put("networkInBytes", known(s.networkInBytes()))
                .put("networkOutBytes", known(s.networkOutBytes()));
    }

    private static Long known(long v) {
        return v < 0 ? null : v;
    }

    /** 512B, 1.5KiB, 23.4MiB, 1.2GiB; "-" for unknown. */
    static String bytes(long n) {
        if (n < 0) {
            return "-";
        }
        if (n < 1024) {
            return n + "B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n / 1024.0;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f%s", v, units[u]);
    }
}

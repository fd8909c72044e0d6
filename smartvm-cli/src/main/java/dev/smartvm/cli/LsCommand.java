package dev.smartvm.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.smartvm.SmartVm;
import dev.smartvm.VmInfo;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "ls", description = "Lists VMs.")
final class LsCommand implements Callable<Integer> {
    @Option(names = "--json", description = "One JSON array, for scripts.")
    boolean json;

    @Option(names = {"-q", "--quiet"}, description = "Only the VMs' names, one per line.")
    boolean quiet;

    /** The guest's address on its network, or null without one. */
    static String address(VmInfo v) {
        return v.network() == null || v.network().address() == null || v.network().address().isEmpty() ? null : v.network().address();
    }

    /** Seconds since its VMM started, for a running or paused VM; null otherwise. */
    static Long uptime(VmInfo v) {
        if (!v.state().isActive() || v.pid() <= 0) {
            return null;
        }
        return ProcessHandle.of(v.pid()).flatMap(p -> p.info().startInstant())
                .map(t -> Math.max(0, java.time.Duration.between(t, java.time.Instant.now()).toSeconds())).orElse(null);
    }

    /** 42s, 5m03s, 2h05m, 3d04h: the two largest units. */
    static String human(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format("%dm%02ds", seconds / 60, seconds % 60);
        }
        if (seconds < 86400) {
            return String.format("%dh%02dm", seconds / 3600, seconds % 3600 / 60);
        }
        return String.format("%dd%02dh", seconds / 86400, seconds % 86400 / 3600);
    }

    @Override
    public Integer call() throws Exception {
        try (SmartVm svm = Session.open()) {
            List<VmInfo> vms = svm.list();
            if (quiet) {
                vms.forEach(v -> System.out.println(v.name()));
                return 0;
            }
            if (json) {
                ArrayNode arr = CliJson.array();
                for (VmInfo v : vms) {
                    arr.addObject().put("id", v.id()).put("name", v.name()).put("state", v.state().name().toLowerCase())
                            .put("backend", v.backend()).put("acceleration", v.acceleration().name().toLowerCase())
                            .put("pid", v.pid()).put("cpus", v.spec().cpus()).put("memoryMib", v.spec().memoryMib())
                            .put("image", v.spec().image()).put("createdAt", v.createdAt().toString())
                            .put("network", InspectCommand.mode(v)).put("address", address(v))
                            .put("uptimeSeconds", uptime(v)).put("stopReason", v.stopReason());
                }
                System.out.println(CliJson.text(arr));
                return 0;
            }
            String fmt = "%-20s %-12s %-8s %-11s %-5s %4s %7s %8s %-15s %8s  %s%n";
            System.out.printf(fmt, "NAME", "ID", "STATE", "BACKEND", "ACCEL", "CPUS", "MEM", "PID", "ADDRESS", "UPTIME", "CREATED");
            for (VmInfo v : vms) {
                Long up = uptime(v);
                String address = address(v);
                System.out.printf(fmt, v.name(), v.id(), v.state().name().toLowerCase(), v.backend(),
                        v.acceleration().name().toLowerCase(), v.spec().cpus(), v.spec().memoryMib() + "M",
                        v.pid() > 0 ? Long.toString(v.pid()) : "-", address == null ? "-" : address,
                        up == null ? "-" : human(up), v.createdAt().toString().substring(0, 19));
            }
            return 0;
        }
    }
}

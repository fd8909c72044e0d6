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
                            .put("network", InspectCommand.mode(v)).put("stopReason", v.stopReason());
                }
                System.out.println(CliJson.text(arr));
                return 0;
            }
            String fmt = "%-20s %-12s %-8s %-11s %-5s %4s %7s %8s  %s%n";
            System.out.printf(fmt, "NAME", "ID", "STATE", "BACKEND", "ACCEL", "CPUS", "MEM", "PID", "CREATED");
            for (VmInfo v : vms) {
                System.out.printf(fmt, v.name(), v.id(), v.state().name().toLowerCase(), v.backend(),
                        v.acceleration().name().toLowerCase(), v.spec().cpus(), v.spec().memoryMib() + "M",
                        v.pid() > 0 ? Long.toString(v.pid()) : "-", v.createdAt().toString().substring(0, 19));
            }
            return 0;
        }
    }
}

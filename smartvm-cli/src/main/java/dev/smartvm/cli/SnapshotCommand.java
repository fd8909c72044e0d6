package dev.smartvm.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.SnapshotInfo;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "snapshot", description = "Saves running VMs and starts new ones where they were.",
        subcommands = {SnapshotCommand.Create.class, SnapshotCommand.Restore.class, SnapshotCommand.Ls.class,
                SnapshotCommand.Rm.class})
final class SnapshotCommand {
    private SnapshotCommand() {
    }

    @Command(name = "create", description = {"Saves a running or paused VM (memory, devices, disk) and prints the",
            "snapshot's name; a running VM is paused while it is saved."})
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "VM")
        String vm;

        @Option(names = "--name", paramLabel = "SNAP", description = "The snapshot's name (default: the VM's name and the time).")
        String name;

        @Override
        public Integer call() {
            try (SmartVm svm = Session.open()) {
                MicroVm machine = Session.find(svm, vm);
                String snap = name != null ? name
                        : machine.name() + "-" + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                                .format(java.time.LocalDateTime.now());
                println(spec, machine.snapshot(snap).name());
                return 0;
            }
        }
    }

    @Command(name = "restore", description = {"Starts a new VM exactly where the snapshot left its VM (its processes",
            "running, its files in place), leaves it running, and prints its name."})
    static final class Restore implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "SNAP")
        String snapshot;

        @Option(names = "--name", paramLabel = "NAME", description = "The new VM's name (default: a generated one).")
        String name;

        @Override
        public Integer call() {
            try (SmartVm svm = Session.open()) {
                MicroVm machine = svm.restore(snapshot, name);
                machine.detach();
                println(spec, machine.name());
                return 0;
            }
        }
    }

    @Command(name = "ls", description = "Lists the snapshots.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "One JSON array.")
        boolean json;

        @Override
        public Integer call() {
            try (SmartVm svm = Session.open()) {
                List<SnapshotInfo> all = svm.snapshots();
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    ArrayNode arr = CliJson.array();
                    for (SnapshotInfo s : all) {
                        arr.addObject().put("name", s.name()).put("vm", s.vm()).put("backend", s.backend())
                                .put("engineVersion", s.engineVersion()).put("acceleration", s.acceleration().name().toLowerCase())
                                .put("image", s.spec().image()).put("cpus", s.spec().cpus())
                                .put("memoryMib", s.spec().memoryMib()).put("createdAt", s.createdAt().toString())
                                .put("sizeBytes", s.sizeBytes()).put("directory", s.directory().toString());
                    }
                    out.println(CliJson.text(arr));
                } else {
                    String fmt = "%-24s %-20s %-8s %5s %7s %9s  %s%n";
                    out.printf(fmt, "NAME", "VM", "BACKEND", "CPUS", "MEM", "SIZE", "CREATED");
                    for (SnapshotInfo s : all) {
                        out.printf(fmt, s.name(), s.vm(), s.backend(), s.spec().cpus(), s.spec().memoryMib() + "M",
                                ProgressBar.bytes(s.sizeBytes()), s.createdAt().toString().substring(0, 19));
                    }
                }
                out.flush();
                return 0;
            }
        }
    }

    @Command(name = "rm", description = "Removes snapshots.")
    static final class Rm implements Callable<Integer> {
        @Parameters(paramLabel = "SNAP", arity = "1..*")
        List<String> names;

        @Override
        public Integer call() {
            try (SmartVm svm = Session.open()) {
                names.forEach(svm::removeSnapshot);
                return 0;
            }
        }
    }

    private static void println(CommandSpec spec, String line) {
        spec.commandLine().getOut().println(line);
        spec.commandLine().getOut().flush();
    }
}

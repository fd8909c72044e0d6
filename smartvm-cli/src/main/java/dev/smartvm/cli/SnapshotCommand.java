package dev.smartvm.cli;

import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
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
                SavedListing.print(spec.commandLine().getOut(), json, svm.snapshots(), (arr, sn) -> SavedListing.json(arr,
                        sn.name(), sn.backend(), sn.engineVersion(), sn.acceleration(), sn.spec(), sn.createdAt(), sn.sizeBytes(),
                        sn.directory()).put("vm", sn.vm()), "VM",
                        (out, sn) -> SavedListing.row(out, sn.name(), sn.vm(), sn.spec(), sn.sizeBytes(), sn.createdAt()));
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

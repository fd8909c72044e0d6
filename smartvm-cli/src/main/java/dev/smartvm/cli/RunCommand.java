package dev.smartvm.cli;

import dev.smartvm.ExecRequest;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.VmSpec;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", description = {"Boots a VM, runs CMD in it and removes the VM (unless --keep).",
        "Exits with CMD's exit code; SmartVM's own errors exit 125."})
final class RunCommand implements Callable<Integer> {
    @Mixin
    VmOptions vm;

    @Mixin
    GuestOptions guest;

    @Option(names = "--keep", description = "Leave the VM running afterwards (see 'smartvm ls').")
    boolean keep;

    @Parameters(arity = "1..*", paramLabel = "CMD", description = "The command and its arguments (after --).")
    List<String> command;

    @Override
    public Integer call() {
        VmSpec spec = vm.toSpec(); // bad input fails before anything is created
        ExecRequest request = GuestCommand.request(command, Map.of(), null, null, guest.uid);
        try (SmartVm svm = Session.open()) {
            MicroVm machine = svm.create(spec);
            machine.start();
            int code = GuestCommand.run(machine, request, guest.interactive);
            if (keep) {
                machine.detach();
                System.err.println("kept VM " + machine.name());
            }
            return code;
        }
    }
}

package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecRequest;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "run", description = {"Boots a VM, runs CMD in it and removes the VM (unless --keep).",
        "Without CMD, runs the image's default command (an OCI image's Entrypoint and Cmd).",
        "Exits with CMD's exit code; SmartVM's own errors exit 125."})
final class RunCommand implements Callable<Integer> {
    @Mixin
    VmOptions vm;

    @Spec
    CommandSpec cli;

    @Mixin
    GuestOptions guest;

    @Option(names = "--keep", description = "Leave the VM running afterwards (see 'smartvm ls').")
    boolean keep;

    @Parameters(arity = "0..*", paramLabel = "CMD", description = "The command and its arguments (after --).")
    List<String> command = List.of();

    @Override
    public Integer call() {
        VmSpec spec = vm.toSpec(); // bad input fails before anything is created
        if (!command.isEmpty()) {
            GuestCommand.request(command, Map.of(), null, null, guest.uid); // bad input fails before anything is created
        }
        try (SmartVm svm = Session.builder().downloads(new ProgressBar(new java.io.PrintWriter(System.err, true),
                ProgressBar.stderrIsTerminal())).build();
                HostTerminal terminal = GuestCommand.terminal(guest)) {
            List<String> argv = command.isEmpty() ? svm.imageCommand(spec) : command;
            if (argv.isEmpty()) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "no command given and the image " + spec.image()
                        + " has no default command (no Entrypoint or Cmd); add -- CMD...");
            }
            ExecRequest request = GuestCommand.request(argv, Map.of(), null, null, guest.uid);
            MicroVm machine = svm.create(spec);
            machine.start();
            int code = terminal != null ? GuestCommand.runOnTerminal(machine, request, terminal, guest.interactive)
                    : GuestCommand.run(machine, request, guest.interactive);
            if (keep) {
                machine.detach();
                FollowHostnamesCommand.spawnFor(machine);
                System.err.println("kept VM " + machine.name());
            }
            return code;
        }
    }
}

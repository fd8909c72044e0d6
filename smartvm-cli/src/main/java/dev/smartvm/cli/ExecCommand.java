package dev.smartvm.cli;

import dev.smartvm.SmartVm;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "exec", description = {"Runs CMD in a running VM.", "Exits with CMD's exit code; SmartVM's own errors exit 125."})
final class ExecCommand implements Callable<Integer> {
    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Environment entries (repeatable).")
    List<String> env = List.of();

    @Option(names = {"-w", "--workdir"}, paramLabel = "DIR", description = "Working directory.")
    String workdir;

    @Option(names = "--timeout", paramLabel = "DUR", converter = Durations.class, description = "Kill CMD after this long (exit 124).")
    Duration timeout;

    @Mixin
    GuestOptions guest;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD")
    List<String> command;

    @Override
    public Integer call() {
        try (SmartVm svm = Session.open()) {
            dev.smartvm.MicroVm vm = Session.find(svm, name);
            dev.smartvm.ExecRequest request = GuestCommand.request(command, VmOptions.EnvOptions.parse(env), workdir, timeout,
                    guest.uid);
            try (HostTerminal terminal = GuestCommand.terminal(guest)) {
                return terminal != null ? GuestCommand.runOnTerminal(vm, request, terminal, guest.interactive)
                        : GuestCommand.run(vm, request, guest.interactive);
            }
        }
    }
}

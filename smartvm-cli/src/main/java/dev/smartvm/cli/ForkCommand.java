package dev.smartvm.cli;

import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "fork", description = {"Continues a running or paused VM in N new VMs, from its exact state (processes,",
        "memory, files); the source goes on. Prints the children's names, one per line; they",
        "stay running."})
final class ForkCommand implements Callable<Integer> {
    @Parameters(paramLabel = "VM")
    String vm;

    @Option(names = {"-n", "--count"}, paramLabel = "N", description = "How many children (1 to 64; default ${DEFAULT-VALUE}).")
    int count = 1;

    @Override
    public Integer call() {
        try (SmartVm svm = Session.open()) {
            List<MicroVm> children = Session.find(svm, vm).fork(count);
            for (MicroVm child : children) {
                child.detach();
                System.out.println(child.name());
            }
            return 0;
        }
    }
}

package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rm", description = "Removes VMs and everything they left on disk.")
final class RmCommand implements Callable<Integer> {
    @Option(names = {"-f", "--force"}, description = "Stop running VMs first.")
    boolean force;

    @Parameters(arity = "1..*", paramLabel = "NAME")
    List<String> names;

    @Override
    public Integer call() {
        try (SmartVm svm = Session.open()) {
            for (String name : names) {
                MicroVm vm = Session.find(svm, name);
                if (vm.state().isActive() && !force) {
                    throw new SmartVmException(ErrorCode.INVALID_STATE, "VM '" + name + "' is "
                            + vm.state().name().toLowerCase() + "; stop it first or use rm -f");
                }
                vm.remove();
            }
            return 0;
        }
    }
}

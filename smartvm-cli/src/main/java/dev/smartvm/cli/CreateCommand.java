package dev.smartvm.cli;

import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.VmSpec;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "create", description = "Boots a VM and leaves it running; prints its name.")
final class CreateCommand implements Callable<Integer> {
    @Mixin
    VmOptions vm;

    @Override
    public Integer call() {
        VmSpec spec = vm.toSpec(); // bad input fails before anything is created
        try (SmartVm svm = Session.open()) {
            MicroVm machine = svm.create(spec);
            machine.start();
            machine.detach();
            FollowHostnamesCommand.spawnFor(machine);
            System.out.println(machine.name());
            return 0;
        }
    }
}

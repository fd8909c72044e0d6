package dev.smartvm.cli;

import dev.smartvm.SmartVm;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "stop", description = "Powers a VM off; it can be started again.")
final class StopCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
        try (SmartVm svm = Session.open()) {
            Session.find(svm, name).stop();
            return 0;
        }
    }
}

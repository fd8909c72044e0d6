package dev.smartvm.cli;

import dev.smartvm.SmartVm;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "start", description = "Boots a stopped VM again.")
final class StartCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
        try (SmartVm svm = Session.open()) {
            Session.find(svm, name).start();
            return 0;
        }
    }
}

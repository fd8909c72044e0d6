package dev.smartvm.cli;

import dev.smartvm.SmartVm;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "pause", description = "Pauses a running VM (its vCPUs stop; memory stays).")
final class PauseCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
        try (SmartVm svm = Session.open()) {
            Session.find(svm, name).pause();
            return 0;
        }
    }
}

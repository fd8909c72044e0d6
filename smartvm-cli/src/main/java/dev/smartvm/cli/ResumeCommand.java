package dev.smartvm.cli;

import dev.smartvm.SmartVm;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "resume", description = "Resumes a paused VM.")
final class ResumeCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
        try (SmartVm svm = Session.open()) {
            Session.find(svm, name).resume();
            return 0;
        }
    }
}

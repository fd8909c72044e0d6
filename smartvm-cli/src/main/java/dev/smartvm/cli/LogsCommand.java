package dev.smartvm.cli;

import dev.smartvm.SmartVm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "logs", description = "Prints a VM's serial console of its current or last boot.")
final class LogsCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws Exception {
        try (SmartVm svm = Session.open()) {
            Path log = Session.find(svm, name).consoleLog();
            if (Files.exists(log)) {
                Files.copy(log, System.out); // streamed: a console log can be far larger than the heap
                System.out.flush();
            }
            return 0;
        }
    }
}

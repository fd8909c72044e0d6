package dev.smartvm.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code smartvm help [COMMAND...]}: the usage of a command, nested ones too ({@code help snapshot create}). */
@Command(name = "help", description = "Shows the usage of a command: smartvm help snapshot create.")
final class UsageCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "A command, and its subcommands.")
    List<String> path = List.of();

    @Override
    public Integer call() {
        CommandLine command = spec.root().commandLine();
        for (String word : path) {
            command = command.getSubcommands().get(word);
            if (command == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "no command 'smartvm " + String.join(" ", path)
                        + "'; 'smartvm --help' lists them");
            }
        }
        command.usage(spec.commandLine().getOut());
        return 0;
    }
}

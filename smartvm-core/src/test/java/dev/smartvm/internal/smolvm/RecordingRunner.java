package dev.smartvm.internal.smolvm;

import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Records every argv and answers like a smolvm of the given version: {@code --version} and
 * {@code machine --help} as the real one prints them, everything else by {@code answer}
 * (exit 0 with no output unless told).
 */
class RecordingRunner implements CommandRunner {
    static final String HELP = "Manage machines\n\nUsage: smolvm machine <COMMAND>\n\nCommands:\n  create  Create a machine\n"
            + "  start   Start a machine\n  stop    Stop a machine\n  delete  Delete a machine\n  exec    Run a command\n"
            + "  cp      Copy files\n  ls      List machines\n  status  Show a machine\n";

    final List<List<String>> calls = new ArrayList<>();
    private final String version;
    private Function<List<String>, CommandResult> answer = argv -> new CommandResult(argv, 0, "", "");

    RecordingRunner(String version) {
        this.version = version;
    }

    RecordingRunner answering(Function<List<String>, CommandResult> a) {
        this.answer = a;
        return this;
    }

    /** The smolvm calls after the identity check, without the binary. */
    List<List<String>> commands() {
        return calls.stream().filter(c -> !c.get(1).equals("--version") && !(c.size() == 3 && c.get(2).equals("--help")))
                .map(c -> c.subList(1, c.size())).toList();
    }

    @Override
    public CommandResult run(List<String> argv, Path workDir, Duration timeout) {
        calls.add(List.copyOf(argv));
        if (argv.get(1).equals("--version")) {
            return new CommandResult(argv, 0, "smolvm " + version + "\n", "");
        }
        if (argv.size() == 3 && argv.get(1).equals("machine") && argv.get(2).equals("--help")) {
            return new CommandResult(argv, 0, HELP, "");
        }
        return answer.apply(argv);
    }
}

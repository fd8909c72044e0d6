package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code smartvm}: run commands in disposable microVMs. */
@Command(name = "smartvm", versionProvider = Main.Version.class,
        description = "Runs commands in disposable microVMs.",
        subcommands = {RunCommand.class, CreateCommand.class, VmActionCommand.Start.class, ExecCommand.class, CpCommand.class,
                VmActionCommand.Pause.class, VmActionCommand.Resume.class, VmActionCommand.Stop.class, RmCommand.class, LsCommand.class, InspectCommand.class,
                LogsCommand.class, ImagesCommand.class, SnapshotCommand.class, TemplateCommand.class, ForkCommand.class, PlanCommand.class, DoctorCommand.class, BenchCommand.class,
                FilesCommand.class, NetCommand.class, StatsCommand.class, TtlCommand.class, GcCommand.class, FollowHostnamesCommand.class, CompletionCommand.class, UsageCommand.class})
public final class Main {
    /** Exit code of SmartVM's own failures (a guest command's own exit codes pass through). */
    public static final int EXIT_ERROR = 125;
    /** Usage errors and bad values (picocli's own and {@code INVALID_ARGUMENT}). */
    public static final int EXIT_USAGE = 2;
    /**
     * A command cut short by Ctrl-C: quiet, and the VM cleaned up. (The JVM, halting on a signal,
     * exits 128 + the signal's number itself: 130 for SIGINT, 143 for SIGTERM.)
     */
    public static final int EXIT_INTERRUPTED = 130;

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean debug;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "Print the version and exit.")
    boolean version;

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI without exiting the JVM; used by main and by tests. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (jvmIsShuttingDown()) {
                // Ctrl-C or SIGTERM: the shutdown hook is removing the VM under the command, which fails
                // as it should; that is no error to report.
                return EXIT_INTERRUPTED;
            }
            SmartVmException s = e instanceof SmartVmException x ? x
                    : new SmartVmException(ErrorCode.IO_ERROR, String.valueOf(e.getMessage() == null ? e : e.getMessage()), e);
            err.println("error[" + s.code() + "]: " + s.getMessage());
            if (main.debug) {
                e.printStackTrace(err);
            }
            err.flush();
            return s.code() == ErrorCode.INVALID_ARGUMENT ? EXIT_USAGE : EXIT_ERROR; // a bad value is a usage error
        });
        cl.setParameterExceptionHandler((e, a) -> {
            err.println("error[" + ErrorCode.INVALID_ARGUMENT + "]: " + e.getMessage());
            err.println("see 'smartvm " + String.join(" ", e.getCommandLine().getCommandSpec().qualifiedName()
                    .replaceFirst("^smartvm ?", "")) + " --help'");
            err.flush();
            return EXIT_USAGE;
        });
        addHelp(cl);
        cl.setStopAtPositional(true); // what follows a VM's command is the guest's: `exec VM -- cmd --flag`
        for (String group : List.of("snapshot", "template")) {
            for (CommandLine sub : cl.getSubcommands().get(group).getSubcommands().values()) {
                sub.setStopAtPositional(false); // no guest command here: `snapshot create VM --name S` reads well
            }
        }
        cl.getSubcommands().get("fork").setStopAtPositional(false); // `fork VM -n 3`
        return cl.execute(args);
    }

    /** {@code -h}/{@code --help} on every subcommand, nested ones too. */
    private static void addHelp(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            CommandLine.Model.CommandSpec spec = sub.getCommandSpec();
            if (spec.findOption("--help") == null) {
                spec.addOption(CommandLine.Model.OptionSpec.builder("-h", "--help").usageHelp(true)
                        .description("Show this help and exit.").build());
            }
            addHelp(sub);
        }
    }

    /** Whether the JVM runs its shutdown hooks (the only way to ask is to try adding one). */
    private static boolean jvmIsShuttingDown() {
        try {
            Thread probe = new Thread(() -> { });
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"smartvm " + (v == null ? "dev" : v)};
        }
    }
}

package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code smartvm}: run commands in disposable microVMs. */
@Command(name = "smartvm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs commands in disposable microVMs.",
        subcommands = {RunCommand.class, CreateCommand.class, VmActionCommand.Start.class, ExecCommand.class, CpCommand.class,
                VmActionCommand.Pause.class, VmActionCommand.Resume.class, VmActionCommand.Stop.class, RmCommand.class, LsCommand.class, InspectCommand.class,
                LogsCommand.class, ImagesCommand.class, PlanCommand.class, DoctorCommand.class, BenchCommand.class,
                FollowHostnamesCommand.class})
public final class Main {
    /** Exit code of SmartVM's own failures (a guest command's own exit codes pass through). */
    public static final int EXIT_ERROR = 125;
    public static final int EXIT_USAGE = 2;

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean debug;

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
            SmartVmException s = e instanceof SmartVmException x ? x
                    : new SmartVmException(ErrorCode.IO_ERROR, String.valueOf(e.getMessage() == null ? e : e.getMessage()), e);
            err.println("error[" + s.code() + "]: " + s.getMessage());
            if (main.debug) {
                e.printStackTrace(err);
            }
            err.flush();
            return EXIT_ERROR;
        });
        cl.setParameterExceptionHandler((e, a) -> {
            err.println("error[" + ErrorCode.INVALID_ARGUMENT + "]: " + e.getMessage());
            err.println("see 'smartvm " + String.join(" ", e.getCommandLine().getCommandSpec().qualifiedName()
                    .replaceFirst("^smartvm ?", "")) + " --help'");
            err.flush();
            return EXIT_USAGE;
        });
        cl.setStopAtPositional(true);
        return cl.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"smartvm " + (v == null ? "dev" : v)};
        }
    }
}

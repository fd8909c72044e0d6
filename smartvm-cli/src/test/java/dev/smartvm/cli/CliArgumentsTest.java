package dev.smartvm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.SmartVmException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Argument handling that needs no VM: it must fail with a code before anything is created. */
class CliArgumentsTest {
    @TempDir
    Path home;

    private StringWriter err;

    @BeforeEach
    void pointAtTempHome() {
        System.setProperty("smartvm.home", home.resolve("state").toString());
        err = new StringWriter();
    }

    @AfterEach
    void reset() {
        System.clearProperty("smartvm.home");
    }

    private int run(String... args) {
        return Main.execute(args, new PrintWriter(new StringWriter()), new PrintWriter(err));
    }

    @Test
    void parsesDurations() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Durations.parse("2d")).isEqualTo(Duration.ofDays(2));
        assertThat(Durations.parse("7")).isEqualTo(Duration.ofSeconds(7));
        assertThatThrownBy(() -> Durations.parse("0s")).hasMessageContaining("positive");
        assertThatThrownBy(() -> Durations.parse("-5s")).hasMessageContaining("found '-5s'");
        assertThatThrownBy(() -> Durations.parse("10 minutes")).hasMessageContaining("ms, s, m, h or d");
    }

    @Test
    void invalidVmOptionsExitTwoBeforeAnythingIsCreated() {
        assertThat(run("run", "--cpus", "99", "--", "true")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).startsWith("error[INVALID_ARGUMENT]: cpus must be between 1 and 32; found 99");
        assertThat(run("create", "--name", "has space")).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("run", "--memory", "12", "--", "true")).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("run", "-w", "relative", "--", "true")).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("run", "--accel", "warp", "--", "true")).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("run", "--user", "-7", "--", "true")).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("run", "--allow", "10.0.0.1", "--", "true")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("egress rules and published ports need the network: enable it (--net)");
        assertThat(run("run", "--net", "--allow", "10.0.0.0/33", "--", "true")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("invalid egress rule '10.0.0.0/33'");
        assertThat(run("run", "--net", "--deny", "host:99999", "--", "true")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("port 99999 is not between 1 and 65535");
        assertThat(run("run", "--net", "-p", "8080", "--", "true")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("invalid published port '8080'");
        assertThat(run("run", "-p", "8080:80", "--", "true")).isEqualTo(Main.EXIT_USAGE);
        assertThat(Files.exists(home.resolve("state"))).as("nothing was created").isFalse();
    }

    /** Every subcommand, nested ones too, answers --help and -h (exit 0, its usage on stdout), and help NAME does too. */
    @Test
    void everySubcommandAnswersHelp() {
        List<List<String>> all = new java.util.ArrayList<>();
        collect(new picocli.CommandLine(new Main()), List.of(), all);
        assertThat(all).hasSizeGreaterThan(20).contains(List.of("snapshot", "create"), List.of("completion"));
        for (List<String> path : all) {
            for (String flag : List.of("--help", "-h")) {
                StringWriter out = new StringWriter();
                List<String> args = new java.util.ArrayList<>(path);
                args.add(flag);
                assertThat(Main.execute(args.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err)))
                        .as(String.join(" ", args)).isZero();
                assertThat(out.toString()).as(String.join(" ", args)).startsWith("Usage: smartvm " + String.join(" ", path));
            }
        }
        StringWriter out = new StringWriter();
        assertThat(Main.execute(new String[] {"help", "run"}, new PrintWriter(out), new PrintWriter(err))).isZero();
        assertThat(out.toString()).startsWith("Usage: smartvm run").contains("--template");
        StringWriter nested = new StringWriter();
        assertThat(Main.execute(new String[] {"help", "snapshot", "create"}, new PrintWriter(nested), new PrintWriter(err)))
                .isZero();
        assertThat(nested.toString()).startsWith("Usage: smartvm snapshot create");
        assertThat(err.toString()).isEmpty();
        assertThat(run("help", "snapshot", "nope")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("no command 'smartvm snapshot nope'");
        err.getBuffer().setLength(0);
        assertThat(run("run", "--no-such-flag")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("see 'smartvm run --help'");
    }

    private static void collect(picocli.CommandLine cl, List<String> path, List<List<String>> into) {
        cl.getSubcommands().forEach((name, sub) -> {
            if (!sub.getCommandSpec().name().equals(name)) {
                return; // an alias
            }
            List<String> p = new java.util.ArrayList<>(path);
            p.add(name);
            into.add(p);
            collect(sub, p, into);
        });
    }

    @Test
    void completionScriptsAreGeneratedFromTheCommands() {
        StringWriter out = new StringWriter();
        assertThat(Main.execute(new String[] {"completion", "bash"}, new PrintWriter(out), new PrintWriter(err))).isZero();
        assertThat(out.toString()).contains("complete -F").contains("snapshot").contains("--template");
        StringWriter zsh = new StringWriter();
        assertThat(Main.execute(new String[] {"completion", "zsh"}, new PrintWriter(zsh), new PrintWriter(err))).isZero();
        assertThat(zsh.toString()).startsWith("autoload -U +X compinit").contains("bashcompinit");
        assertThat(run("completion", "fish")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("fish");
    }

    @Test
    void usageErrorsExitTwo() {
        assertThat(run("run")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).startsWith("error[INVALID_ARGUMENT]: ");
        assertThat(run("exec", "onlyname")).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("--no-such-flag")).isEqualTo(Main.EXIT_USAGE);
    }

    @Test
    void cpNeedsExactlyOneGuestSide() {
        assertThat(run("cp", "/a", "/b")).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("cp", "vm:/a", "other:/b")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("exactly one side");
    }

    @Test
    void execDropsTheSeparatorAndRejectsAnEmptyCommand() {
        assertThat(GuestCommand.request(List.of("--", "ls", "-l"), Map.of(), null, null, -1).command()).containsExactly("ls", "-l");
        assertThat(GuestCommand.request(List.of("ls", "--", "x"), Map.of(), null, null, -1).command()).containsExactly("ls", "--", "x");
        assertThatThrownBy(() -> GuestCommand.request(List.of("--"), Map.of(), null, null, -1)).isInstanceOf(SmartVmException.class);
    }

    @Test
    void envEntriesNeedAKey() {
        assertThat(VmOptions.EnvOptions.parse(List.of("A=1", "B=x=y", "C="))).containsEntry("B", "x=y").containsEntry("C", "");
        assertThatThrownBy(() -> VmOptions.EnvOptions.parse(List.of("=v"))).hasMessageContaining("KEY=VALUE");
    }
}

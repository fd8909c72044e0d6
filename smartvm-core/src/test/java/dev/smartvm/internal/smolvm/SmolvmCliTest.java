package dev.smartvm.internal.smolvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecResult;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.CommandResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The argv of every subcommand, for releases before and after the naming change of 1.0.2. */
class SmolvmCliTest {
    private final RecordingRunner runner = new RecordingRunner("1.9.3");
    private final SmolvmCli cli = new SmolvmCli("/opt/smolvm/smolvm", runner);

    @Test
    void createNamesTheMachineWithAFlagAndPutsTheWorkloadAfterDashDash() {
        cli.create(MachineSpec.builder("box").image("alpine:3.20").cpus(2).memoryMib(512).env("A=1").workdir("/srv")
                .volume("/data:/data:ro").port("8080:80").command(List.of("sleep", "60")).build());
        assertThat(runner.commands()).containsExactly(List.of("machine", "create", "--name", "box", "-I", "alpine:3.20",
                "--cpus", "2", "--mem", "512", "-e", "A=1", "-w", "/srv", "-v", "/data:/data:ro", "-p", "8080:80",
                "--", "sleep", "60"));
        assertThat(runner.calls.get(0)).containsExactly("/opt/smolvm/smolvm", "--version");
    }

    @Test
    void allowRulesAlwaysComeWithAnExplicitNetEvenFromAPack() {
        cli.create(MachineSpec.builder("box").from("/p/app.smolmachine").allowCidr("10.0.0.0/8").allowHost("example.com")
                .workdir("/ignored").build());
        assertThat(runner.commands()).containsExactly(List.of("machine", "create", "--name", "box", "--from",
                "/p/app.smolmachine", "--net", "--allow-cidr", "10.0.0.0/8", "--allow-host", "example.com"));
    }

    @Test
    void theLifecycleTakesNamesAsFlagsAndDeleteIsAlwaysForced() {
        cli.start("box");
        cli.stop("box");
        cli.delete("box");
        assertThat(runner.commands()).containsExactly(List.of("machine", "start", "--name", "box"),
                List.of("machine", "stop", "--name", "box"), List.of("machine", "delete", "--name", "box", "-f"));
    }

    @Test
    void aForkableStartAndAForkFollowTheVerifiedRelease() {
        cli.start("golden", true);
        cli.fork("golden", "child", Duration.ofMillis(2500));
        assertThat(runner.commands()).containsExactly(List.of("machine", "start", "--name", "golden", "--forkable"),
                List.of("machine", "fork", "--golden", "golden", "--name", "child", "--ready-timeout", "2s"));
        RecordingRunner older = new RecordingRunner("1.9.2");
        SmolvmCli c = new SmolvmCli("smolvm", older);
        c.start("golden", true); // a release SmartVM has not read the fork of: started as any machine
        assertThat(older.commands()).containsExactly(List.of("machine", "start", "--name", "golden"));
        assertThatThrownBy(() -> c.fork("golden", "child", Duration.ofSeconds(30))).isInstanceOfSatisfying(
                dev.smartvm.SmartVmException.class, e -> assertThat(e.code()).isEqualTo(dev.smartvm.ErrorCode.UNSUPPORTED))
                .hasMessageContaining("from smolvm 1.9.3 on; this one is 1.9.2");
        assertThatThrownBy(() -> cli.fork("golden", "bad--name", Duration.ofSeconds(30))).hasMessageContaining("'--'");
    }

    @Test
    void releasesBefore102TakeCreateAndDeleteNamesPositionally() {
        RecordingRunner old = new RecordingRunner("1.0.1");
        SmolvmCli c = new SmolvmCli("smolvm", old);
        c.create(MachineSpec.builder("box").image("alpine").command(List.of("sh")).build());
        c.start("box");
        c.delete("box");
        assertThat(old.commands()).containsExactly(List.of("machine", "create", "-I", "alpine", "box", "sh"),
                List.of("machine", "start", "--name", "box"), List.of("machine", "delete", "box", "-f"));
    }

    @Test
    void execPassesEnvWorkdirAndTimeoutAndReturnsTheGuestsExit() {
        runner.answering(argv -> new CommandResult(argv, 3, "out\n", "err\n"));
        ExecResult r = cli.exec("box", List.of("K=v w"), "/tmp", Duration.ofSeconds(90), List.of("sh", "-c", "exit 3"));
        assertThat(runner.commands()).containsExactly(List.of("machine", "exec", "--name", "box", "-e", "K=v w", "-w", "/tmp",
                "--timeout", "90s", "-i", "--stream", "--", "sh", "-c", "exit 3"));
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        assertThat(r.status().timedOut()).isFalse();
    }

    @Test
    void aTimeoutIsExit124AndMarkedSoWithoutTheLineSmolvmAdds() {
        runner.answering(argv -> new CommandResult(argv, 124, "", "started\n\ncommand timed out after 120000ms"));
        ExecResult r = cli.exec("box", List.of(), null, Duration.ofMinutes(2), List.of("sleep", "1000"));
        assertThat(runner.commands().get(0)).contains("--timeout", "2m");
        assertThat(r.exitCode()).isEqualTo(124);
        assertThat(r.status().timedOut()).isTrue();
        assertThat(r.stderr()).isEqualTo("started\n");
        assertThat(SmolvmCli.duration(Duration.ofMillis(10))).isEqualTo("1s");
        assertThat(SmolvmCli.duration(Duration.ofHours(2))).isEqualTo("2h");
        assertThat(SmolvmCli.duration(Duration.ofSeconds(61))).isEqualTo("61s");
    }

    @Test
    void smolvmsOwnExecRefusalsRaiseWithTheirStderr() {
        for (String refusal : List.of("Error: vm not found: box\n", "Error: agent operation failed: connect: machine 'box' is not"
                + " running. Use 'smolvm machine start --name box' first.\n", "Error: machine 'box' is not running\n")) {
            runner.answering(argv -> new CommandResult(argv, 1, "", refusal));
            assertThatThrownBy(() -> cli.exec("box", List.of(), null, null, List.of("true")))
                    .isInstanceOfSatisfying(SmolvmException.class, e -> {
                        assertThat(e.exitCode()).isEqualTo(1);
                        assertThat(e.stderr()).isEqualTo(refusal);
                    }).hasMessageContaining(refusal.strip());
        }
        runner.answering(argv -> new CommandResult(argv, 1, "", "Error: vm not found: boxes\n"));
        assertThat(cli.exec("box", List.of(), null, null, List.of("false")).exitCode()).as("another machine's name").isEqualTo(1);
        runner.answering(argv -> new CommandResult(argv, 1, "", "Error: something the guest printed\n"));
        assertThat(cli.exec("box", List.of(), null, null, List.of("false")).exitCode()).as("the guest's exit 1").isEqualTo(1);
    }

    /** smolvm exits 1 for a command it cannot spawn; SmartVM says 127 or 126, as on its other engines. */
    @Test
    void aCommandSmolvmCannotSpawnIs127OrForAMissingDirectory126() {
        String spawn = "Error: agent operation failed: vm exec: failed to spawn command: No such file or directory (os error 2)\n";
        runner.answering(argv -> new CommandResult(argv, argv.contains("test") ? 0 : 1, "", argv.contains("test") ? "" : spawn));
        assertThat(cli.exec("box", List.of(), "/tmp", null, List.of("no-such-program")).exitCode()).isEqualTo(127);
        runner.answering(argv -> new CommandResult(argv, 1, "", argv.contains("test") ? "" : spawn));
        assertThat(cli.exec("box", List.of(), "/no/dir", null, List.of("true")).exitCode()).isEqualTo(126);
        assertThat(runner.commands()).last().asList().containsSequence("--", "test", "-d", "/no/dir");
        runner.answering(argv -> new CommandResult(argv, 1, "", "Error: agent operation failed: vm exec: failed to spawn"
                + " command: Permission denied (os error 13)\n"));
        assertThat(cli.exec("box", List.of(), null, null, List.of("/etc/hostname")).exitCode()).isEqualTo(126);
    }

    @Test
    void aFailedCallRaisesWithExitCodeAndStderr() {
        runner.answering(argv -> new CommandResult(argv, 1, "", "Error: machine 'box' not found\n"));
        assertThatThrownBy(() -> cli.stop("box")).isInstanceOfSatisfying(SmolvmException.class, e -> {
            assertThat(e.exitCode()).isEqualTo(1);
            assertThat(e.stderr()).isEqualTo("Error: machine 'box' not found\n");
            assertThat(e.code()).isEqualTo(ErrorCode.VMM_ERROR);
        }).hasMessageContaining("Error: machine 'box' not found");
    }

    @Test
    void cpWithAnEmptySideCallsNothing() {
        cli.cp("", "box:/tmp/x");
        cli.cp("/tmp/x", "");
        cli.cp(null, "box:/tmp/x");
        assertThat(runner.calls).isEmpty();
        cli.cp("/tmp/x", "box:/tmp/y");
        assertThat(runner.commands()).containsExactly(List.of("machine", "cp", "/tmp/x", "box:/tmp/y"));
    }

    @Test
    void packCreateNeverPassesAnOutputEndingInSmolmachine() {
        assertThat(cli.packCreate("alpine", Path.of("/p/app.smolmachine"))).isEqualTo(Path.of("/p/app.smolmachine"));
        assertThat(cli.packCreate("alpine", Path.of("/p/app"))).isEqualTo(Path.of("/p/app.smolmachine"));
        assertThat(runner.commands()).containsExactly(List.of("pack", "create", "-I", "alpine", "-o", "/p/app"),
                List.of("pack", "create", "-I", "alpine", "-o", "/p/app"));
    }

    @Test
    void lsAndStatusReadSmolvmsJson() {
        String one = "{\"name\":\"box\",\"state\":\"running\",\"cpus\":2,\"memory_mib\":512,\"pid\":77,\"image\":\"alpine\","
                + "\"labels\":{}}";
        runner.answering(argv -> new CommandResult(argv, 0, argv.contains("ls") ? "[" + one + "]" : one, ""));
        assertThat(cli.ls()).containsExactly(new MachineStatus("box", "running", 2, 512, 77, "alpine"));
        assertThat(cli.status("box").running()).isTrue();
        assertThat(runner.commands()).containsExactly(List.of("machine", "ls", "--json"),
                List.of("machine", "status", "--name", "box", "--json"));
    }

    @Test
    void waitExecReadyPollsUntilTheGuestAnswers() throws Exception {
        int[] tries = {0};
        runner.answering(argv -> new CommandResult(argv, ++tries[0] < 3 ? 1 : 0, "", tries[0] < 3 ? "agent not ready\n" : ""));
        cli.waitExecReady("box", Duration.ofSeconds(30));
        assertThat(runner.commands()).hasSize(3).allSatisfy(c -> assertThat(c).containsExactly("machine", "exec", "--name", "box",
                "-i", "--stream", "--", "true"));
    }

    @Test
    void waitExecReadyNamesTheMachineWhenItNeverAnswers() {
        runner.answering(argv -> new CommandResult(argv, 1, "", "Error: machine 'box' is not running\n"));
        assertThatThrownBy(() -> cli.waitExecReady("box", Duration.ofMillis(300))).isInstanceOf(SmolvmException.class)
                .hasMessageContaining("smolvm machine 'box' is not ready").hasMessageContaining("is not running");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-box", "box-", "a--b", "has space", "dot.ted", "ünïcode"})
    void namesSmolvmWouldRejectAreRefusedBeforeAnyCall(String name) {
        assertThatThrownBy(() -> cli.start(name)).isInstanceOfSatisfying(SmartVmException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT)).hasMessageContaining("not a smolvm machine name");
        assertThat(runner.commands()).isEmpty();
    }

    @Test
    void longNamesAndMalformedEnvAreRefusedBeforeAnyCall() {
        assertThatThrownBy(() -> cli.stop("a".repeat(129))).hasMessageContaining("longer than 128");
        cli.stop("a".repeat(128));
        for (String bad : List.of("NOEQUALS", "=v", "1A=v", "A-B=v")) {
            assertThatThrownBy(() -> cli.exec("box", List.of(bad), null, null, List.of("true"))).as(bad)
                    .hasMessageContaining("is not an environment entry");
            assertThatThrownBy(() -> cli.create(MachineSpec.builder("box").image("alpine").env(bad).build())).as(bad)
                    .hasMessageContaining("is not an environment entry");
        }
        assertThat(runner.commands()).hasSize(1);
    }

    @Test
    void anUnrelatedSmolvmIsRefused() {
        RecordingRunner python = new RecordingRunner("0.3.0") {
            @Override
            public CommandResult run(List<String> argv, Path workDir, Duration timeout) {
                calls.add(argv);
                return argv.get(1).equals("--version") ? new CommandResult(argv, 0, "smolvm, version 0.3.0 (python)\n", "")
                        : new CommandResult(argv, 2, "", "No such command 'machine'.\n");
            }
        };
        SmolvmCli c = new SmolvmCli("/usr/local/bin/smolvm", python);
        assertThat(c.isAvailable()).isFalse();
        assertThatThrownBy(() -> c.start("box")).isInstanceOfSatisfying(SmartVmException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.HOST_DEPENDENCY_MISSING)).hasMessageContaining("is not smolvm");
        RecordingRunner noExec = new RecordingRunner("1.9.3") {
            @Override
            public CommandResult run(List<String> argv, Path workDir, Duration timeout) {
                return argv.get(1).equals("machine") ? new CommandResult(argv, 0, "Commands:\n  create\n  start\n", "")
                        : super.run(argv, workDir, timeout);
            }
        };
        assertThatThrownBy(() -> new SmolvmCli("smolvm", noExec).version()).hasMessageContaining("no 'exec' subcommand");
        assertThat(cli.isAvailable()).isTrue();
        assertThat(cli.version()).isEqualTo(new SmolvmVersion(1, 9, 3));
    }

    @Test
    void aMissingBinarySaysHowToInstallSmolvm(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> SmolvmCli.locate(dir.resolve("nope").toString(), runner))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.HOST_DEPENDENCY_MISSING))
                .hasMessageContaining("install smolvm");
        Path exe = Files.writeString(dir.resolve("smolvm"), "#!/bin/sh\n");
        exe.toFile().setExecutable(true);
        assertThat(SmolvmCli.locate(exe.toString(), runner).binary()).isEqualTo(exe.toString());
    }
}

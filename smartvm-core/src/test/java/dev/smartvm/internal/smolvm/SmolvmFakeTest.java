package dev.smartvm.internal.smolvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ExecResult;
import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The wrapper against the strict fake smolvm: what the argv tests say, smolvm 1.9 accepts; what
 * it refuses, the fake refuses as smolvm does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SmolvmFakeTest {
    private Path dir;
    private Path smolvm;
    private SmolvmCli cli;

    @BeforeAll
    void install() throws Exception {
        dir = Files.createTempDirectory("smolvm-fake");
        smolvm = FakeSmolvm.install(dir.resolve("bin"), dir.resolve("data"));
        cli = SmolvmCli.locate(smolvm.toString(), CommandRunner.system());
    }

    @AfterAll
    void nothingRuns() throws Exception {
        List<MachineStatus> left = cli.ls();
        for (MachineStatus m : left) {
            cli.delete(m.name());
        }
        dev.smartvm.internal.io.FileTrees.delete(dir);
        assertThat(left).as("machines left behind").isEmpty();
    }

    private CommandResult raw(String... args) {
        List<String> argv = new ArrayList<>(List.of(smolvm.toString()));
        argv.addAll(List.of(args));
        return CommandRunner.system().run(argv, null, Duration.ofMinutes(1));
    }

    /** machine fork as v1.9.3 has it: a forkable golden at its fork point, frozen while its forks exist. */
    @Test
    void aForkFreezesItsGoldenUntilItsForksAreGone() throws Exception {
        cli.create(MachineSpec.builder("golden").image("alpine:3.20").net(true).build());
        cli.create(MachineSpec.builder("plain").image("alpine:3.20").net(true).build());
        cli.start("golden", true);
        cli.start("plain");
        assertThat(raw("machine", "fork", "--golden", "plain", "--name", "p1").stderr())
                .contains("golden 'plain' is not running forkable; start it with `machine start --forkable --name plain`");
        assertThat(raw("machine", "fork", "--golden", "golden", "--name", "g1").stderr()).contains("fork point");
        assertThat(raw("machine", "fork", "--golden", "golden", "--name", "g1", "--count", "2").stderr())
                .contains("--name cannot be used with --count greater than 1; use --name-prefix");
        assertThat(raw("machine", "fork", "--golden", "golden", "--name", "g1", "--forkable").exitCode()).isEqualTo(1);
        assertThat(raw("machine", "fork", "--golden", "golden", "--name", "g1", "--name-prefix", "g").exitCode()).isEqualTo(2);
        assertThat(cli.exec("golden", List.of(), null, Duration.ofSeconds(10), List.of("smolvm-fork-ready")).exitCode()).isZero();
        cli.fork("golden", "g1", Duration.ofSeconds(10));
        assertThat(cli.status("golden").state()).isEqualTo("frozen");
        assertThat(cli.status("g1").running()).isTrue();
        cli.fork("golden", "g2", Duration.ofSeconds(10)); // frozen at its fork point: forked again
        CommandResult stop = raw("machine", "stop", "--name", "golden");
        assertThat(stop.exitCode()).isEqualTo(1);
        assertThat(stop.stderr()).contains("while it has clones (g1, g2)");
        assertThat(cli.status("golden").state()).isEqualTo("frozen");
        cli.delete("g1");
        cli.delete("g2");
        cli.stop("golden");
        assertThat(cli.status("golden").state()).isEqualTo("stopped");
        assertThat(raw("machine", "stop", "--name", "golden").stdout()).contains("is not running (state: stopped)");
        cli.delete("golden");
        cli.delete("plain");
    }

    @Test
    void aMachineLivesThroughTheWholeCycle() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        cli.create(MachineSpec.builder("cycle").image("alpine:3.20").net(true).cpus(2).memoryMib(256).env("FROM_CREATE=yes")
                .workdir(work.toString()).build());
        assertThat(cli.status("cycle").state()).isEqualTo("created");
        assertThatThrownBy(() -> cli.exec("cycle", List.of(), null, null, List.of("true"))).isInstanceOf(SmolvmException.class)
                .hasMessageContaining("Error: agent operation failed: connect: machine 'cycle' is not running");
        cli.start("cycle");
        cli.start("cycle"); // already running: fine
        cli.waitExecReady("cycle", Duration.ofSeconds(30));
        MachineStatus s = cli.status("cycle");
        assertThat(s.running()).isTrue();
        assertThat(s.pid()).isPositive();
        assertThat(s.cpus()).isEqualTo(2);

        ExecResult r = cli.exec("cycle", List.of("X=1"), null, Duration.ofSeconds(30), List.of("sh", "-c",
                "echo $FROM_CREATE$X; pwd; echo oops >&2; exit 7"));
        assertThat(r.exitCode()).isEqualTo(7);
        assertThat(r.stdout()).isEqualTo("yes1\n" + work + "\n");
        assertThat(r.stderr()).isEqualTo("oops\n");
        ExecResult slow = cli.exec("cycle", List.of(), null, Duration.ofSeconds(1), List.of("sleep", "30"));
        assertThat(slow.exitCode()).isEqualTo(124);
        assertThat(slow.status().timedOut()).isTrue();

        Path up = Files.writeString(dir.resolve("up.txt"), "to the guest");
        Path guest = Files.createDirectories(dir.resolve("guest"));
        cli.cp(up.toString(), "cycle:" + guest.resolve("in.txt"));
        cli.cp("cycle:" + guest.resolve("in.txt"), dir.resolve("down.txt").toString());
        assertThat(dir.resolve("down.txt")).hasContent("to the guest");
        assertThatThrownBy(() -> cli.cp(guest.toString(), "cycle:/tmp/x")).hasMessageContaining("Error: ");

        cli.stop("cycle");
        assertThat(cli.status("cycle").state()).isEqualTo("stopped");
        assertThat(ProcessHandle.of(s.pid()).map(ProcessHandle::isAlive).orElse(false)).as("the VM process is gone").isFalse();
        cli.delete("cycle");
        assertThat(cli.ls()).extracting(MachineStatus::name).doesNotContain("cycle");
    }

    @Test
    void theFakeParsesArgvAsSmolvm19Does() {
        assertThat(raw("--version").stdout()).isEqualTo("smolvm 1.9.3\n");
        CommandResult positional = raw("machine", "create", "posbox", "-I", "alpine");
        assertThat(positional.exitCode()).isEqualTo(2);
        assertThat(positional.stderr()).startsWith("error: unexpected argument 'posbox' found");
        assertThat(raw("machine", "create", "--name", "box2", "--bogus").stderr()).contains("unexpected argument '--bogus'");
        assertThat(raw("machine", "create", "--name", "box2", "-I", "alpine", "--net", "sleep", "1").exitCode())
                .as("a workload needs --").isEqualTo(2);
        assertThat(raw("machine", "create", "--name", "box2", "-I", "alpine", "--net", "--", "sleep", "1").exitCode()).isZero();
        assertThat(raw("machine", "exec", "-n", "box2", "--", "true").stderr()).as("exec takes --name only")
                .contains("unexpected argument '-n'");
        assertThat(raw("machine", "start", "--name", "box2").exitCode()).isZero();
        assertThat(raw("machine", "exec", "--name", "box2", "--timeout", "0", "--", "true").exitCode()).isEqualTo(2);

        CommandResult cancelled = raw("machine", "delete", "--name", "box2");
        assertThat(cancelled.exitCode()).isZero();
        assertThat(cancelled.stdout()).contains("Cancelled");
        assertThat(cli.status("box2").state()).as("a delete without -f deletes nothing (it stops the machine)")
                .isEqualTo("stopped");

        CommandResult unknown = raw("machine", "stop", "--name", "nobox");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.stderr()).isEqualTo("Error: vm not found: nobox\n");
        assertThat(raw("pack", "create", "-I", "alpine", "-o", dir.resolve("x.smolmachine").toString()).stderr())
                .startsWith("Error: output path must not end in .smolmachine");
        cli.delete("box2");
    }

    @Test
    void aPackedMachineStartsFromItsSidecar() throws Exception {
        Path sidecar = cli.packCreate("alpine:3.20", dir.resolve("app.smolmachine"));
        assertThat(sidecar).isEqualTo(dir.resolve("app.smolmachine")).isRegularFile();
        assertThat(dir.resolve("app")).isExecutable();
        cli.create(MachineSpec.builder("packed").from(sidecar.toString()).allowCidr("10.0.0.0/8").build());
        assertThat(cli.status("packed").image()).isEqualTo("alpine:3.20");
        cli.delete("packed");
    }
}

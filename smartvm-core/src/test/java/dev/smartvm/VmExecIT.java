package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Commands in a real QEMU microVM through the guest agent. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VmExecIT extends RealVmTest {
    private MicroVm vm;

    @BeforeAll
    void boot() {
        vm = svm.start(VmSpec.builder().name("exec-it").env(Map.of("FROM_SPEC", "spec")).workdir("/tmp").build());
    }

    @AfterAll
    void shutdown() {
        vm.close();
    }

    @Test
    void runsInALinuxGuest() {
        ExecResult r = vm.exec("uname", "-a");
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).as("its hostname is its name").contains("Linux " + vm.name() + " ").contains("x86_64");
        assertThat(vm.state()).isEqualTo(VmState.RUNNING);
    }

    @Test
    void reportsExitCodesAndBothStreams() {
        ExecResult r = vm.exec("sh", "-c", "echo to-out; echo to-err >&2; exit 42");
        assertThat(r.exitCode()).isEqualTo(42);
        assertThat(r.stdout()).isEqualTo("to-out\n");
        assertThat(r.stderr()).isEqualTo("to-err\n");
    }

    @Test
    void unknownCommandIs127() {
        ExecResult r = vm.exec("definitely-not-installed");
        assertThat(r.exitCode()).isEqualTo(127);
        assertThat(r.stderr()).contains("definitely-not-installed");
    }

    @Test
    void loopbackIsUpWithoutANetwork() {
        assertThat(vm.exec("ip", "link", "show", "lo").stdout()).contains("UP");
        ExecResult r = vm.exec("sh", "-c", "mkdir -p /tmp/www && echo served > /tmp/www/x && busybox httpd -p 127.0.0.1:8099"
                + " -h /tmp/www && timeout 5 wget -qO- http://127.0.0.1:8099/x");
        assertThat(r.stdout()).as(r.stderr()).isEqualTo("served\n");
    }

    @Test
    void feedsStdin() {
        ExecResult r = vm.exec(ExecRequest.of("wc", "-c").withStdin("twelve bytes".getBytes(StandardCharsets.UTF_8)));
        assertThat(r.stdout().strip()).isEqualTo("12");
    }

    @Test
    void appliesEnvAndWorkdirWithSpecDefaults() {
        ExecResult defaults = vm.exec("sh", "-c", "echo $FROM_SPEC; pwd");
        assertThat(defaults.stdout()).isEqualTo("spec\n/tmp\n");
        ExecResult own = vm.exec(ExecRequest.of("sh", "-c", "echo $FROM_SPEC $OWN; pwd").withEnv("OWN", "mine")
                .withEnv("FROM_SPEC", "overridden").withWorkdir("/proc"));
        assertThat(own.stdout()).isEqualTo("overridden mine\n/proc\n");
    }

    @Test
    void runsAsAnotherUser() {
        ExecResult r = vm.exec(ExecRequest.of("id", "-u").withUid(65534));
        assertThat(r.stdout()).isEqualTo("65534\n");
        assertThat(vm.exec("id", "-u").stdout()).isEqualTo("0\n");
    }

    @Test
    void timeoutKillsWith124() {
        ExecResult r = vm.exec(ExecRequest.of("sh", "-c", "sleep 1000 & sleep 1000").withTimeout(Duration.ofMillis(500)));
        assertThat(r.exitCode()).isEqualTo(124);
        assertThat(r.status().timedOut()).isTrue();
        assertThat(vm.exec("true").exitCode()).isZero();
    }

    @Test
    void runsEightExecsAtOnce() throws Exception {
        vm.exec("sh", "-c", "rm -rf /tmp/barrier; mkdir /tmp/barrier");
        List<CompletableFuture<ExecResult>> all = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String script = "touch /tmp/barrier/" + i + "; while [ $(ls /tmp/barrier | wc -l) -lt 8 ]; do sleep 0.05; done; "
                    + "echo " + i + "; exit " + i;
            all.add(CompletableFuture.supplyAsync(() -> vm.exec("sh", "-c", script)));
        }
        for (int i = 0; i < 8; i++) {
            ExecResult r = all.get(i).get(60, TimeUnit.SECONDS);
            assertThat(r.exitCode()).isEqualTo(i);
            assertThat(r.stdout()).isEqualTo(i + "\n");
        }
    }

    @Test
    void streamsOutputAsItArrives() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExitStatus s = vm.exec(ExecRequest.of("sh", "-c", "for i in 1 2 3; do echo line$i; done"), out, OutputStream.nullOutputStream());
        assertThat(s.code()).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("line1\nline2\nline3\n");
    }

    @Test
    void spawnsWithInteractiveStdin() throws Exception {
        try (ExecProcess p = vm.spawn(ExecRequest.of("tr", "a-z", "A-Z"))) {
            p.stdin().write("hello\n".getBytes(StandardCharsets.UTF_8));
            p.stdin().close();
            assertThat(new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("HELLO\n");
            assertThat(p.waitFor(Duration.ofSeconds(30)).code()).isZero();
        }
    }
    @Test
    void runsOnATerminalWithJobControl() throws Exception {
        ExecResult r = vm.exec(ExecRequest.of("sh", "-c", "tty; stty size; echo $TERM; echo to-err >&2").withPty(120, 40));
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).startsWith("/dev/pts/").contains("40 120\r\n", "xterm-256color\r\n", "to-err\r\n");
        assertThat(r.stderr()).isEmpty();
        try (ExecProcess p = vm.spawn(ExecRequest.of("sh").withPty(80, 24).withEnv("PS1", "$ "))) {
            p.stdin().write("sleep 60 &\njobs\n".getBytes(StandardCharsets.UTF_8));
            p.stdin().flush();
            StringBuilder seen = new StringBuilder();
            int b;
            while (seen.indexOf("Running") < 0 && (b = p.stdout().read()) >= 0) {
                seen.append((char) b);
            }
            assertThat(seen.toString()).as("the shell has job control").contains("sleep 60");
            p.resize(132, 50);
            p.stdin().write("stty size; exit 3\n".getBytes(StandardCharsets.UTF_8));
            p.stdin().flush();
            assertThat(new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8)).contains("50 132");
            assertThat(p.waitFor(Duration.ofSeconds(30)).code()).isEqualTo(3);
        }
    }
}

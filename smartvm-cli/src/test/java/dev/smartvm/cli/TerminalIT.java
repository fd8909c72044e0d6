package dev.smartvm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.smartvm.EnabledIfQemuAvailable;
import dev.smartvm.RealVmTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code smartvm run -it -- sh} as a person uses it: the CLI runs in a tmux pane (a real terminal
 * of its own tmux server), keys are typed into it and the screen is read back.
 */
@Tag("integration")
@EnabledIfQemuAvailable
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TerminalIT {
    @TempDir
    Path dir;

    private String server;

    @BeforeEach
    void tmuxServer() throws Exception {
        assumeTrue(new ProcessBuilder("tmux", "-V").start().waitFor() == 0, "tmux is not installed (bin/test installs it)");
        server = "smartvm-terminal-it-" + ProcessHandle.current().pid();
    }

    @AfterEach
    void killServer() throws Exception {
        tmux("kill-server");
    }

    @Test
    void aShellOnTheGuestTerminalTypesResizesInterruptsAndExits() throws Exception {
        Path home = Files.createTempDirectory(Path.of("/tmp"), "svt");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jar = Path.of("target", "smartvm-cli.jar").toAbsolutePath().toString();
        Path script = dir.resolve("pane.sh");
        Files.writeString(script, String.join("\n",
                "export SMARTVM_HOME=" + home + " SMARTVM_IMAGES=" + RealVmTest.sharedImages(),
                "stty -g > " + dir.resolve("before"),
                "'" + java + "' -jar '" + jar + "' run -it -- sh",
                "echo $? > " + dir.resolve("rc.tmp") + " && mv " + dir.resolve("rc.tmp") + " " + dir.resolve("rc"),
                "stty -g > " + dir.resolve("after"),
                "stty -a > " + dir.resolve("after-all"),
                "exec sleep 600", ""));
        tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "sh " + script);
        try {
            awaitScreen(s -> s.contains("/ #"), "the guest shell's prompt"); // (capture-pane drops trailing blanks)
            type("echo hello-$((6*7)) $TERM", "Enter");
            awaitScreen(s -> s.contains("hello-42 screen") || s.contains("hello-42 tmux"), "the guest's output, with tmux's TERM");
            type("stty size", "Enter");
            awaitScreen(s -> s.contains("24 80"), "the starting size");
            tmux("resize-window", "-t", "t", "-x", "100", "-y", "30");
            type("stty size", "Enter");
            awaitScreen(s -> s.contains("30 100"), "the size after a resize");
            // one foreground job that says it runs (a ^C typed while the shell still reads its line is flushed)
            type("sh -c 'echo sleep-$((2*2)); exec sleep 300'", "Enter");
            awaitScreen(s -> s.contains("sleep-4"), "the job running");
            type("C-c");
            type("echo after-$((1+1))", "Enter");
            awaitScreen(s -> s.contains("after-2"), "the shell, back after Ctrl-C stopped sleep");
            type("exit 3", "Enter");
            Path rc = dir.resolve("rc");
            for (int i = 0; i < 600 && !Files.exists(rc); i++) {
                Thread.sleep(100);
            }
            assertThat(rc).as("the CLI ended").exists();
            assertThat(Files.readString(rc).strip()).as("the shell's exit code").isEqualTo("3");
            Path after = dir.resolve("after");
            for (int i = 0; i < 100 && !Files.exists(after); i++) {
                Thread.sleep(100);
            }
            assertThat(Files.readString(after)).as("the host terminal's settings after, as before")
                    .isEqualTo(Files.readString(dir.resolve("before")));
            assertThat(List.of(Files.readString(dir.resolve("after-all")).split("[\\s;]+")))
                    .as("the host terminal is in cooked mode again").contains("icanon", "echo", "isig", "opost");
        } finally {
            tmux("kill-session", "-t", "t"); // after a failure, a hang-up: the CLI removes its VM as it exits
            List<String> left = List.of();
            for (int i = 0; i < 300; i++) {
                left = ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(home.toString()))
                        .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList();
                if (left.isEmpty()) {
                    break;
                }
                Thread.sleep(100);
            }
            assertThat(left).as("processes left behind").isEmpty();
            try (var all = Files.walk(home)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private void type(String... keys) throws Exception {
        List<String> args = new ArrayList<>(List.of("send-keys", "-t", "t"));
        args.addAll(List.of(keys));
        tmux(args.toArray(String[]::new));
    }

    private void awaitScreen(Predicate<String> shown, String what) throws Exception {
        String screen = "";
        for (int i = 0; i < 1200; i++) {
            screen = tmux("capture-pane", "-p", "-t", "t");
            if (shown.test(screen)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the screen never showed " + what + "; it shows:\n" + screen);
    }

    private String tmux(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("tmux", "-L", server));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }
}

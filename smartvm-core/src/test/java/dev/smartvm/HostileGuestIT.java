package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A guest that does its worst to itself: the VM and its agent must stay up and answer. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class HostileGuestIT extends RealVmTest {
    @Test
    void fillingEveryMemoryFilesystemAtOnceLeavesTheGuestAlive() {
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            ExecResult fill = vm.exec("sh", "-c", "for d in / /tmp /run /dev; do dd if=/dev/zero of=$d/fill bs=1M 2>/dev/null;"
                    + " done; cat /fill /tmp/fill /run/fill /dev/fill | wc -c");
            assertThat(fill.exitCode()).as(fill.stderr()).isZero();
            long filled = Long.parseLong(fill.stdout().strip());
            assertThat(filled).as("all of them full hold well under the guest's 256 MiB")
                    .isBetween(32L << 20, 160L << 20);
            assertThat(vm.exec("echo", "alive").stdout()).isEqualTo("alive\n");
            assertThat(vm.exec("sh", "-c", "rm /fill /tmp/fill /run/fill /dev/fill && echo freed").stdout()).isEqualTo("freed\n");
            assertThat(vm.state()).isEqualTo(VmState.RUNNING);
        }
    }

    @Test
    void theAgentIsNotTheOomKillersChoiceAndCommandsAre() {
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            assertThat(vm.exec("cat", "/proc/1/oom_score_adj").stdout().strip()).isEqualTo("-1000");
            assertThat(vm.exec("cat", "/proc/self/oom_score_adj").stdout().strip()).isEqualTo("0");
            // field 19 of stat is the nice value: the agent runs above its commands
            assertThat(vm.exec("sh", "-c", "cut -d' ' -f19 /proc/1/stat; cut -d' ' -f19 /proc/self/stat").stdout())
                    .isEqualTo("-10\n0\n");
        }
    }

    @Test
    void aSerialFloodKeepsTheConsoleLogBoundedAndItsTailCurrent() throws Exception {
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            long flood = 2 * dev.smartvm.internal.host.ConsoleRing.MAX_BYTES + (1 << 20);
            ExecResult r = vm.exec(ExecRequest.shell("head -c " + flood + " /dev/zero | tr '\\0' x > /dev/ttyS0;"
                    + " echo > /dev/ttyS0; echo END-OF-FLOOD > /dev/ttyS0").withTimeout(java.time.Duration.ofMinutes(4)));
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            assertThat(vm.exec("echo", "alive").stdout()).isEqualTo("alive\n");
            java.nio.file.Path log = vm.consoleLog();
            java.nio.file.Path rotated = log.resolveSibling("console.log.1");
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
            while (!dev.smartvm.internal.io.TextFiles.tail(log, 3).contains("END-OF-FLOOD") && System.nanoTime() < deadline) {
                Thread.sleep(100); // the writer may still be copying the last bytes
            }
            assertThat(dev.smartvm.internal.io.TextFiles.tail(log, 3)).as("the tail is the newest output").contains("END-OF-FLOOD");
            assertThat(java.nio.file.Files.size(log)).isLessThanOrEqualTo(dev.smartvm.internal.host.ConsoleRing.MAX_BYTES);
            assertThat(java.nio.file.Files.size(rotated)).isLessThanOrEqualTo(dev.smartvm.internal.host.ConsoleRing.MAX_BYTES);
        }
    }

    @Test
    void aForkBombThatEscapesItsProcessGroupCannotHoldTheCallerOrTheVm() {
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            // setsid puts the bomb out of reach of the exec's process-group kill; only the deadline ends the exec
            ExecResult r = vm.exec(ExecRequest.shell("setsid sh -c 'b() { b | b & }; b' & sleep 600")
                    .withTimeout(java.time.Duration.ofSeconds(3)));
            assertThat(r.exitCode()).isEqualTo(124);
            assertThat(r.status().timedOut()).isTrue();
            long pid = vm.info().pid();
            vm.remove(); // and the VM still goes at once, bomb and all
            assertThat(dev.smartvm.internal.host.HostProcess.isRunning(pid, null)).isFalse();
        }
    }

    @Test
    void anOutputFloodOnBothStreamsIsCutAtTheCollectedLimit() {
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> vm.exec("sh", "-c",
                    "cat /dev/zero & cat /dev/zero >&2 & wait"));
            assertThat(t).isInstanceOf(SmartVmException.class);
            assertThat(((SmartVmException) t).code()).isEqualTo(ErrorCode.OUTPUT_TOO_LARGE);
            assertThat(vm.exec("echo", "alive").stdout()).isEqualTo("alive\n");
        }
    }
}

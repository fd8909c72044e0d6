package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * TTLs and idle timeouts of real VMs, enforced by the home's watchdog process (not by this JVM:
 * the VMs are found gone or stopped through the records only).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class TimeLimitsIT extends RealVmTest {
    /** The watchdog leaves once no VM has a limit: nothing of it may outlive the test's home. */
    @AfterAll
    void theWatchdogLeaves() throws InterruptedException {
        awaitTrue(Duration.ofSeconds(40), this::noWatchdog, "the watchdog exits once no VM has a limit");
    }

    private boolean noWatchdog() {
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .noneMatch(p -> p.info().commandLine().orElse("").contains("Watchdog " + home));
    }

    private VmState stateOf(String name) {
        return svm.list().stream().filter(v -> v.name().equals(name)).map(VmInfo::state).findFirst().orElse(VmState.REMOVED);
    }

    private void awaitTrue(Duration within, BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(() -> what + "; the watchdog's log:\n" + watchdogLog()).isLessThan(end);
            Thread.sleep(200);
        }
    }

    private String watchdogLog() {
        try {
            return Files.readString(home.resolve("watchdog.log"));
        } catch (java.io.IOException e) {
            return "(none: " + e + ")";
        }
    }

    @Test
    void aVmIsRemovedWhenItsTtlEndsAndStoppedWithOnTtlStop() throws InterruptedException {
        MicroVm removed = svm.start(VmSpec.builder().name("ttl-remove").ttl(Duration.ofSeconds(4)).build());
        MicroVm stopped = svm.start(VmSpec.builder().name("ttl-stop").ttl(Duration.ofSeconds(4)).onTtl(TimeLimits.OnTtl.STOP).build());
        Instant deadline = removed.info().expiresAt();
        assertThat(deadline).as("inspect shows the deadline").isNotNull().isAfter(Instant.now().minusSeconds(1));
        removed.detach(); // as `smartvm create` leaves it: nothing of this JVM stops it
        stopped.detach();
        awaitTrue(Duration.ofSeconds(40), () -> stateOf("ttl-remove") == VmState.REMOVED, "removed after its TTL");
        assertThat(Instant.now()).as("not before its deadline").isAfterOrEqualTo(deadline);
        awaitTrue(Duration.ofSeconds(40), () -> stateOf("ttl-stop") == VmState.STOPPED, "stopped after its TTL");
        MicroVm again = svm.get("ttl-stop").orElseThrow();
        assertThat(again.info().expiresAt()).as("a stopped VM's lifetime does not run").isNull();
        again.remove();
    }

    @Test
    void setTtlGivesARunningVmALifetimeAndRefusesABadOne() throws InterruptedException {
        MicroVm vm = svm.start(VmSpec.builder().name("ttl-later").build());
        assertThat(vm.info().expiresAt()).as("none yet").isNull();
        assertThatThrownBy(() -> vm.setTtl(Duration.ZERO)).isInstanceOfSatisfying(SmartVmException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> vm.setTtl(Duration.ofSeconds(-5))).isInstanceOfSatisfying(SmartVmException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThat(vm.info().expiresAt()).as("nothing changed").isNull();
        Instant at = vm.setTtl(Duration.ofHours(1));
        assertThat(vm.info().expiresAt()).isEqualTo(at);
        vm.setTtl(Duration.ofSeconds(3)); // shortened
        vm.detach();
        awaitTrue(Duration.ofSeconds(40), () -> stateOf("ttl-later") == VmState.REMOVED, "removed at its new deadline");
    }

    @Test
    void anIdleVmIsStoppedAndABusyOneIsNot() throws InterruptedException {
        MicroVm idle = svm.start(VmSpec.builder().name("idle").idleTimeout(Duration.ofSeconds(3)).build());
        MicroVm busy = svm.start(VmSpec.builder().name("busy").idleTimeout(Duration.ofSeconds(3)).build());
        try (ExecProcess running = busy.spawn(ExecRequest.of("sleep", "12"))) {
            awaitTrue(Duration.ofSeconds(40), () -> stateOf("idle") == VmState.STOPPED, "the idle VM stopped");
            assertThat(idle.info().stopReason()).isNotNull();
            Thread.sleep(4000); // well past its idle timeout, with its command running all along
            assertThat(stateOf("busy")).as("a VM running a command is not idle").isEqualTo(VmState.RUNNING);
            assertThat(running.waitFor(Duration.ofSeconds(30)).code()).isZero();
        }
        awaitTrue(Duration.ofSeconds(40), () -> stateOf("busy") == VmState.STOPPED, "idle once its command ended");
        idle.close();
        busy.close();
    }

    @Test
    void anIdleVmIsPausedWithOnIdlePauseAndTheNextCallResumesIt() throws InterruptedException {
        try (MicroVm vm = svm.start(VmSpec.builder().name("napper").idleTimeout(Duration.ofSeconds(3))
                .onIdle(TimeLimits.OnIdle.PAUSE).build())) {
            vm.exec("sh", "-c", "echo before > /tmp/state");
            awaitTrue(Duration.ofSeconds(40), () -> stateOf("napper") == VmState.PAUSED, "paused when idle");
            assertThat(Files.exists(vm.info().stateDir().resolve("idle-paused"))).isTrue();
            assertThat(watchdogLog()).as("the pause went through").contains("napper: idle for").doesNotContain("cannot");
            ExecResult r = vm.exec("cat", "/tmp/state");
            assertThat(r.stdout()).as("resumed by the exec, its memory intact").isEqualTo("before\n");
            assertThat(vm.state()).isEqualTo(VmState.RUNNING);
            awaitTrue(Duration.ofSeconds(40), () -> stateOf("napper") == VmState.PAUSED, "and paused again when idle");
            vm.resume();
            vm.pause();
            assertThatThrownBy(() -> vm.exec("true")).as("paused by the user, not for idleness: not woken by a call")
                    .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE));
            assertThat(watchdogLog()).as("every pause and wake went through").doesNotContain("cannot").doesNotContain("failed");
        }
    }

    @Test
    void badLimitsAreRefusedAndNothingIsMade() {
        assertThatThrownBy(() -> VmSpec.builder().ttl(Duration.ZERO).build()).isInstanceOfSatisfying(SmartVmException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> VmSpec.builder().idleTimeout(Duration.ofSeconds(-1)).build())
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        int before = svm.list().size();
        assertThatThrownBy(() -> svm.create(VmSpec.builder().name("no-agent").backend("smolvm").idleTimeout(Duration.ofMinutes(1))
                .build())).isInstanceOfSatisfying(SmartVmException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
                    assertThat(e.getMessage()).contains("smolvm").contains("idle");
                });
        assertThat(svm.list()).hasSize(before);
        MicroVm stopped = svm.create(VmSpec.builder().name("never-started").build());
        assertThatThrownBy(() -> stopped.setTtl(Duration.ofMinutes(1))).isInstanceOfSatisfying(SmartVmException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE));
        stopped.close();
    }
}

package dev.smartvm.internal.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A boot's steps: a failure undoes what came before it, newest first, every undo, and names the step. */
class BootTest {
    private final List<String> log = new ArrayList<>();

    @Test
    void aFailedStepUndoesTheStepsBeforeItNewestFirstAndSaysWhichFailed() {
        Boot boot = new Boot();
        boot.step("one", () -> log.add("did one"));
        boot.onUndo("one", () -> log.add("undid one"));
        boot.step("two", () -> log.add("did two"));
        boot.onUndo("two", () -> {
            log.add("undid two");
            throw new IllegalStateException("an undo that fails does not stop the others");
        });
        assertThatThrownBy(() -> boot.step("three", () -> {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "no TAP");
        })).isInstanceOfSatisfying(Boot.StepFailed.class, f -> {
            assertThat(f.step()).isEqualTo("three");
            assertThat(f.failure().code()).isEqualTo(ErrorCode.HOST_DEPENDENCY_MISSING);
            assertThat(f.getMessage()).isEqualTo("step 'three' failed: no TAP");
        });
        assertThat(log).containsExactly("did one", "did two", "undid two", "undid one");
        boot.close(); // nothing left to undo
        assertThat(log).hasSize(4);
    }

    @Test
    void aCommittedBootUndoesNothingAndAnAbandonedOneIsUndoneOnClose() {
        try (Boot boot = new Boot()) {
            boot.step("one", () -> log.add("did one"));
            boot.onUndo("one", () -> log.add("undid one"));
            boot.commit();
        }
        assertThat(log).containsExactly("did one");
        try (Boot boot = new Boot()) {
            boot.step("two", () -> log.add("did two"));
            boot.onUndo("two", () -> log.add("undid two"));
        }
        assertThat(log).containsExactly("did one", "did two", "undid two");
    }

    @Test
    void anUnexpectedFailureIsUndoneAndPassedOnAsItIs() {
        Boot boot = new Boot();
        boot.step("one", () -> log.add("did one"));
        boot.onUndo("one", () -> log.add("undid one"));
        assertThatThrownBy(() -> boot.step("two", () -> {
            throw new IllegalArgumentException("a bug");
        })).isInstanceOf(IllegalArgumentException.class);
        assertThat(log).containsExactly("did one", "undid one");
        assertThat(boot.done()).containsExactly("one");
    }
}

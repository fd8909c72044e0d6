package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VmStateTest {
    @Test
    void allowsOnlyTheDocumentedMoves() {
        assertThat(VmState.CREATED.canMoveTo(VmState.STARTING)).isTrue();
        assertThat(VmState.CREATED.canMoveTo(VmState.PAUSED)).isFalse();
        assertThat(VmState.CREATED.canMoveTo(VmState.STOPPING)).isFalse();
        assertThat(VmState.RUNNING.canMoveTo(VmState.PAUSED)).isTrue();
        assertThat(VmState.RUNNING.canMoveTo(VmState.STARTING)).isFalse();
        assertThat(VmState.PAUSED.canMoveTo(VmState.RUNNING)).isTrue();
        assertThat(VmState.PAUSED.canMoveTo(VmState.PAUSED)).isFalse();
        assertThat(VmState.STOPPED.canMoveTo(VmState.STARTING)).isTrue();
        assertThat(VmState.STOPPED.canMoveTo(VmState.PAUSED)).isFalse();
        for (VmState s : VmState.values()) {
            assertThat(VmState.REMOVED.canMoveTo(s)).isFalse();
        }
    }

    @Test
    void activeMeansAVmmRuns() {
        assertThat(VmState.RUNNING.isActive()).isTrue();
        assertThat(VmState.PAUSED.isActive()).isTrue();
        assertThat(VmState.CREATED.isActive()).isFalse();
        assertThat(VmState.STOPPED.isActive()).isFalse();
    }
}

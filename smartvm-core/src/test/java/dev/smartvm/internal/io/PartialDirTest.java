package dev.smartvm.internal.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A partial directory is its maker's while it is made: a sweep leaves it; closing removes it unless it was moved. */
class PartialDirTest {
    @TempDir
    Path parent;

    @Test
    void aSweepLeavesOneBeingMadeAndClosingRemovesItAndItsLock() throws Exception {
        PartialDir made = PartialDir.make(parent.resolve("store"));
        Path dir = made.path();
        Path lock = dir.resolveSibling(dir.getFileName() + ".lock");
        assertThat(dir.getFileName().toString()).matches("\\.partial-[0-9a-f]{8}");
        assertThat(dir).isDirectory();
        assertThat(lock).as("held").exists();
        Sweep sweep = new Sweep(false);
        PartialDir.sweep(parent.resolve("store"), sweep, "left", "lock left", p -> { });
        assertThat(sweep.leftovers()).isEmpty();
        made.close();
        assertThat(dir).doesNotExist();
        assertThat(lock).doesNotExist();
    }

    @Test
    void oneMovedIntoPlaceStaysWhereItWent() throws Exception {
        Path target = parent.resolve("done");
        try (PartialDir made = PartialDir.make(parent)) {
            Files.writeString(made.path().resolve("f"), "whole");
            Files.move(made.path(), target, StandardCopyOption.ATOMIC_MOVE);
        }
        assertThat(target.resolve("f")).hasContent("whole");
        try (var left = Files.list(parent)) {
            assertThat(left).containsExactly(target);
        }
    }
}

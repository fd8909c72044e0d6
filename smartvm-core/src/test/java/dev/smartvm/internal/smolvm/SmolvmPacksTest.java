package dev.smartvm.internal.smolvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.Leftover;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.io.Sweep;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pack cut short leaves a hidden directory; gc removes it once its maker is gone, never while it packs. */
class SmolvmPacksTest {
    @TempDir
    Path packs;

    @Test
    void gcRemovesPacksWhoseMakerDiedAndLeavesOnesBeingMade() throws Exception {
        Path dead = Files.createDirectories(packs.resolve(".partial-dead"));
        Files.writeString(dead.resolve("image.smolmachine"), "half");
        Path alive = Files.createDirectories(packs.resolve(".partial-alive"));
        Path strayLock = Files.writeString(packs.resolve(".partial-gone.lock"), "");
        Path made = Files.createDirectories(packs.resolve("0123456789abcdef"));
        Sweep dry = new Sweep(true);
        try (LockFile packing = LockFile.acquire(packs.resolve(".partial-alive.lock"))) {
            SmolvmPacks.sweepPartials(packs, dry);
            assertThat(dry.leftovers()).extracting(Leftover::kind, Leftover::name).containsExactlyInAnyOrder(
                    org.assertj.core.groups.Tuple.tuple(Leftover.Kind.PARTIAL_SAVE, dead.toString()),
                    org.assertj.core.groups.Tuple.tuple(Leftover.Kind.LOCK, strayLock.toString()));
            assertThat(dead).exists();
            SmolvmPacks.sweepPartials(packs, new Sweep(false));
            assertThat(dead).doesNotExist();
            assertThat(strayLock).doesNotExist();
            assertThat(alive).as("being made").exists();
            assertThat(made).as("a pack is a cache, not a leftover").exists();
        }
    }
}

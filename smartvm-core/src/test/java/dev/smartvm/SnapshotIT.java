package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.io.Hashing;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Snapshots under QEMU: a VM saved while it runs goes on, and a restored one continues exactly where it was. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SnapshotIT extends RealVmTest {
    @TempDir
    Path dir;

    @Test
    void aRestoredVmContinuesWhereItsSnapshotLeftIt() throws Exception {
        ImageBundle base = Internals.images(svm).resolve("default");
        Path image = TestRootDisks.image(base, dir, "on the root disk\n", "snapshot-test");
        String baseDisk = Hashing.sha256(image.resolve("root.ext4"));

        try (MicroVm source = svm.start(VmSpec.builder().name("source").image(image.toString()).build())) {
            assertThat(source.exec("sh", "-c", GuestCounter.START).exitCode()).isZero();
            assertThat(source.exec("sh", "-c", "echo in-memory > /tmp/mem && echo on-disk > /etc/disk && sync").exitCode())
                    .isZero();
            int before = GuestCounter.risesAbove(source, 0);

            SnapshotInfo saved = source.snapshot("s1");
            assertThat(saved.name()).isEqualTo("s1");
            assertThat(saved.vm()).isEqualTo("source");
            assertThat(saved.backend()).isEqualTo("qemu");
            assertThat(saved.sizeBytes()).isPositive();
            assertThat(svm.snapshots()).extracting(SnapshotInfo::name).containsExactly("s1");
            assertThat(source.state()).as("the source resumes").isEqualTo(VmState.RUNNING);
            int sourceAfter = GuestCounter.risesAbove(source, before);
            source.exec("sh", "-c", "echo changed-after > /tmp/mem; echo changed-after > /etc/disk");

            assertCode(catchThrowable(() -> source.snapshot("s1")), ErrorCode.NAME_IN_USE);

            try (MicroVm restored = svm.restore("s1", "restored")) {
                assertThat(restored.id()).isNotEqualTo(source.id());
                assertThat(restored.state()).isEqualTo(VmState.RUNNING);
                assertThat(restored.exec("cat", "/tmp/mem").stdout()).as("memory as saved").isEqualTo("in-memory\n");
                assertThat(restored.exec("cat", "/etc/disk").stdout()).as("the disk as saved").isEqualTo("on-disk\n");
                int restoredAt = GuestCounter.value(restored);
                assertThat(restoredAt).as("the counter went on from where it was saved").isBetween(before, sourceAfter + 50);
                GuestCounter.risesAbove(restored, restoredAt);
                restored.exec("sh", "-c", "echo restored-wrote > /etc/disk");
                assertThat(source.exec("cat", "/etc/disk").stdout()).as("their disks are apart").isEqualTo("changed-after\n");
            }
        }
        assertThat(Hashing.sha256(image.resolve("root.ext4"))).as("the image's disk is never written").isEqualTo(baseDisk);
        try (MicroVm again = svm.restore("s1", null)) {
            assertThat(again.exec("cat", "/etc/disk").stdout()).as("a snapshot restores as often as asked").isEqualTo("on-disk\n");
        }
        svm.removeSnapshot("s1");
        assertThat(svm.snapshots()).isEmpty();
        assertCode(catchThrowable(() -> svm.restore("s1", null)), ErrorCode.SNAPSHOT_NOT_FOUND);
    }

    /**
     * A restored guest would resume at the saved time with the saved RNG state (every copy the
     * same "random" UUIDs): each new agent session sets the clock and reseeds the RNG.
     */
    @Test
    void restoredVmsTakeTheHostsClockAndReseedTheirRandomness() throws Exception {
        try (MicroVm source = svm.start(VmSpec.builder().build())) {
            source.snapshot("clock");
        }
        Thread.sleep(3000); // the saved clock is behind by this much now
        try (MicroVm one = svm.restore("clock", null); MicroVm two = svm.restore("clock", null)) {
            for (MicroVm vm : java.util.List.of(one, two)) {
                long guest = Long.parseLong(vm.exec("date", "+%s").stdout().strip());
                assertThat(Math.abs(guest - java.time.Instant.now().getEpochSecond())).as("the guest's clock").isLessThanOrEqualTo(2);
            }
            String uuid = "cat /proc/sys/kernel/random/uuid";
            assertThat(one.exec("sh", "-c", uuid).stdout()).as("two copies draw different random numbers")
                    .isNotEqualTo(two.exec("sh", "-c", uuid).stdout());
        } finally {
            svm.removeSnapshot("clock");
        }
    }

    @Test
    void onlyARunningOrPausedVmIsSaved() {
        try (MicroVm vm = svm.create(VmSpec.builder().build())) {
            assertCode(catchThrowable(() -> vm.snapshot("never")), ErrorCode.INVALID_STATE);
            assertCode(catchThrowable(() -> vm.snapshot("bad name!")), ErrorCode.INVALID_STATE);
        }
        assertThat(svm.snapshots()).isEmpty();
        assertThat(home.resolve("snapshots")).satisfiesAnyOf(p -> assertThat(p).doesNotExist(),
                p -> assertThat(p).isEmptyDirectory());
    }

    /** A save that fills its disk fails clearly, leaves no half snapshot, and the VM goes on. */
    @Test
    void aFullDiskFailsTheSaveAndLeavesNothing() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        Path snapshots = java.nio.file.Files.createDirectories(home.resolve("snapshots"));
        assertThat(dev.smartvm.internal.net.TestNetworks.sh("mount -t tmpfs -o size=8m tmpfs " + snapshots).exitCode()).isZero();
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            vm.exec("sh", "-c", "head -c 48M /dev/urandom > /tmp/fill"); // more than fits
            Throwable t = catchThrowable(() -> vm.snapshot("too-big"));
            assertThat(t).isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR))
                    .hasMessageContaining("No space left on device");
            assertThat(svm.snapshots()).isEmpty();
            try (java.util.stream.Stream<Path> left = java.nio.file.Files.list(snapshots)) {
                assertThat(left.toList()).as("no half snapshot").isEmpty();
            }
            assertThat(vm.state()).as("the VM goes on").isEqualTo(VmState.RUNNING);
            assertThat(vm.exec("true").exitCode()).isZero();
        } finally {
            dev.smartvm.internal.net.TestNetworks.sh("umount " + snapshots);
        }
    }

    private static void assertCode(Throwable t, ErrorCode code) {
        assertThat(t).isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).as(e.getMessage()).isEqualTo(code));
    }
}

package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link MicroVm#stats()} of a real guest: figures that move as the guest works. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class VmStatsIT extends RealVmTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void diskIsTheBlocksOfTheVmsOverlay() throws Exception {
        Path image = TestRootDisks.image(Internals.images(svm).resolve("default"), dir, "disk\n", "stats-disk-test");
        try (MicroVm vm = svm.start(VmSpec.builder().name("stats-disk").image(image.toString()).build())) {
            long before = vm.stats().diskBytes();
            assertThat(before).as("the qcow2 overlay over its image").isPositive();
            ExecResult written = vm.exec("/bin/busybox", "sh", "-c",
                    "busybox dd if=/dev/urandom of=/blob bs=1M count=16 2>&1 && busybox sync");
            assertThat(written.exitCode()).as(written.stdout() + written.stderr()).isZero();
            assertThat(vm.stats().diskBytes() - before).as("16 MiB written to its disk").isGreaterThan(15 * MIB);
        }
    }

    @Test
    void figuresArePlausibleAndFollowWhatTheGuestDoes() {
        try (MicroVm vm = svm.start(VmSpec.builder().name("stats-it").memoryMib(256)
                .network(NetworkSpec.enabled(List.of(), List.of())).build())) {
            VmStats first = vm.stats();
            assertThat(first.name()).isEqualTo("stats-it");
            assertThat(first.interval()).as("a first sample is taken over a short span").isPositive();
            assertThat(first.cpuTime()).as("the boot took vCPU time").isPositive();
            assertThat(first.cpuPercent()).isBetween(0.0, 100.0 * 2 + 1); // at most every host CPU (2 here), some slack
            GuestUsage guest = first.guest();
            assertThat(guest).as("the agent answers").isNotNull();
            assertThat(guest.memoryTotalBytes()).as("about the 256 MiB it was given, less the kernel's own")
                    .isBetween(180 * MIB, 256 * MIB);
            assertThat(guest.memoryAvailableBytes()).isBetween(1L, guest.memoryTotalBytes());
            assertThat(first.vmmRssBytes()).as("QEMU's resident memory").isGreaterThan(10 * MIB);
            assertThat(first.vmmPssBytes()).isBetween(1L, first.vmmRssBytes());
            assertThat(first.diskBytes()).as("the default image has no disk: its root is in RAM").isEqualTo(-1);
            assertThat(first.networkInBytes()).as("a TAP of SmartVM's").isNotNegative();

            ExecResult filled = vm.exec("sh", "-c", "mkdir -p /mnt/fill && mount -t tmpfs -o size=100m fill /mnt/fill"
                    + " && dd if=/dev/zero of=/mnt/fill/x bs=1M count=64 2>&1 && sync");
            assertThat(filled.exitCode()).as(filled.stdout() + filled.stderr()).isZero();
            ExecResult busy = vm.exec("sh", "-c", "end=$(( $(date +%s) + 2 )); while [ $(date +%s) -lt $end ]; do :; done");
            assertThat(busy.exitCode()).isZero();
            vm.exec("sh", "-c", "gw=$(ip route | awk '/^default/ {print $3}'); ping -c 3 -W 1 \"$gw\" || true");

            VmStats after = vm.stats();
            assertThat(after.interval()).as("since the previous sample of this handle").isGreaterThan(first.interval());
            assertThat(after.guest().memoryUsedBytes() - guest.memoryUsedBytes())
                    .as("64 MiB held in a tmpfs are in use").isGreaterThan(60 * MIB);
            assertThat(after.cpuTime().minus(first.cpuTime())).as("a 2 s busy loop's vCPU time")
                    .isGreaterThan(Duration.ofMillis(500));
            assertThat(after.networkOutBytes()).as("pings and ARP sent").isGreaterThan(first.networkOutBytes());
            assertThat(after.guest().activeRequests()).isZero();

            vm.pause();
            VmStats paused = vm.stats();
            assertThat(paused.guest()).as("a paused guest cannot answer").isNull();
            assertThat(paused.vmmRssBytes()).isPositive();
            vm.resume();

            vm.stop();
            assertThatThrownBy(vm::stats).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE));
        }
    }
}

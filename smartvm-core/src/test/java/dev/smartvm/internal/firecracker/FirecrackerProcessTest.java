package dev.smartvm.internal.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.Acceleration;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.Balloon;
import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.firecracker.FirecrackerVm;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.image.TestImages;
import dev.smartvm.spi.BootImage;
import dev.smartvm.spi.BootRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only Firecracker has (instance info, snapshots, the balloon, metrics), against the fake. */
class FirecrackerProcessTest {
    private static final FieldSupport SUPPORT = FieldSupport.load();

    @TempDir
    Path dir;
    private FirecrackerBackend backend;
    private BootImage image;

    @BeforeEach
    void setUp() throws IOException {
        Path fc = FakeFirecracker.install(Files.createDirectories(dir.resolve("bin")));
        backend = new FirecrackerBackend(() -> new FirecrackerRelease.Binaries(fc, dir.resolve("bin/jailer")), null, SUPPORT)
                .withConfig(c -> new VmConfig(c.bootSource(), c.machineConfig(), c.drives(), c.networkInterfaces(),
                        c.vsock(), new Balloon(16, true, 1, null, null), c.mmds(), c.logger(), c.metrics(), c.entropy(),
                        c.serial()));
        Path kernel = Files.write(dir.resolve("vmlinux"), TestImages.elfKernel(true));
        Path initrd = Files.write(dir.resolve("initrd"), new byte[16]);
        image = new ImageBundle("fake", kernel, initrd, null, "fake").boot();
    }

    private BootRequest spec(String id) throws IOException {
        return new BootRequest(id, Files.createDirectories(dir.resolve(id)), image, 1, 128, Acceleration.KVM);
    }

    @Test
    void infoSnapshotsBalloonAndMetrics() throws IOException {
        FirecrackerProcess vm = (FirecrackerProcess) backend.launch(spec("vm-1"));
        try {
            assertThat(vm.instanceInfo()).isEqualTo(new FirecrackerVm.InstanceInfo("vm-1", "Running", "1.16.1", "Firecracker"));
            Path snap = dir.resolve("vm.snap");
            Path mem = dir.resolve("vm.mem");
            assertThatThrownBy(() -> vm.createSnapshot(FirecrackerVm.SnapshotType.Full, snap, mem))
                    .isInstanceOf(FirecrackerApiException.class)
                    .hasMessageContaining("HTTP 400").hasMessageContaining("not paused");
            vm.pause();
            assertThat(vm.instanceInfo().state()).isEqualTo("Paused");
            vm.createSnapshot(FirecrackerVm.SnapshotType.Full, snap, mem);
            assertThat(snap).isRegularFile();
            assertThat(Files.size(mem)).isEqualTo(128L << 20);
            vm.resume();

            vm.updateBalloon(32);
            vm.updateBalloonStatisticsInterval(5);
            assertThat(vm.balloonStatistics().get("target_mib")).isEqualTo(32);
            assertThatThrownBy(() -> vm.updateBalloon(-1)).hasMessageContaining("amountMib must be >= 0");

            Path metrics = dir.resolve("vm-1").resolve(FirecrackerBackend.METRICS_FILE);
            long before = Files.size(metrics);
            vm.flushMetrics();
            assertThat(Files.size(metrics)).isGreaterThan(before);

            Path logSocket = vm.layout().apiSocket();
            vm.terminate(Duration.ofSeconds(10));
            assertThat(vm.isAlive()).isFalse();
            assertThat(vm.exitReason()).get().asString().contains("Ctrl-Alt-Del");
            assertThat(logSocket).doesNotExist();

            FirecrackerProcess restored = backend.restore(spec("vm-2"), SnapshotLoad.fromFiles(snap, mem, false));
            try {
                assertThat(restored.instanceInfo().state()).isEqualTo("Paused");
                restored.resume();
                assertThat(restored.instanceInfo().state()).isEqualTo("Running");
            } finally {
                restored.terminate(Duration.ofSeconds(5));
            }
        } finally {
            vm.terminate(Duration.ofSeconds(5));
        }
    }

    @Test
    void aRefusedConfigurationKillsFirecrackerAndLeavesNoSocket() throws IOException {
        FirecrackerBackend refused = backend.withConfig(c -> new VmConfig(c.bootSource(), c.machineConfig(), c.drives(),
                c.networkInterfaces(), c.vsock(), c.balloon(), c.mmds(), c.logger(),
                new dev.smartvm.firecracker.Metrics(dir.resolve("no-such-dir/metrics").toString()), c.entropy(), c.serial()));
        BootRequest spec = spec("vm-3");
        assertThatThrownBy(() -> refused.launch(spec))
                .isInstanceOf(SmartVmException.class)
                .hasMessageContaining("Failed to open target file")
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.BOOT_FAILED);
        assertThat(spec.vmDir().resolve("fc.sock")).doesNotExist();
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(spec.vmDir().toString())))
                .isEmpty();
    }

    @Test
    void invalidConfigurationIsRefusedBeforeAnythingStarts() throws IOException {
        FirecrackerBackend invalid = backend.withConfig(c -> new VmConfig(c.bootSource(),
                new dev.smartvm.firecracker.MachineConfig(3, 128, true, null, null, null), c.drives(), c.networkInterfaces(),
                c.vsock()));
        BootRequest spec = spec("vm-4");
        assertThatThrownBy(() -> invalid.launch(spec))
                .hasMessageContaining("machineConfig.vcpuCount must be 1 or even when smt is enabled");
        assertThat(spec.vmDir().resolve("firecracker.argv")).doesNotExist();
        assertThatThrownBy(() -> backend.launch(new BootRequest("bad id!", dir, image, 1, 128, Acceleration.KVM)))
                .hasMessageContaining("letters, digits or '-'");
    }

    @Test
    void networkOverridesNeedFirecracker112() {
        SnapshotLoad load = new SnapshotLoad(dir.resolve("initrd"), SnapshotLoad.MemoryBackend.File, dir.resolve("vmlinux"),
                true, Map.of("eth0", "tap1"));
        FirecrackerLayout layout = FirecrackerLayout.plain(dir);
        assertThat(load.request(layout, FirecrackerVersion.parse("1.12.0"), SUPPORT).body())
                .containsEntry("network_overrides", java.util.List.of(Map.of("iface_id", "eth0", "host_dev_name", "tap1")))
                .containsEntry("mem_backend", Map.of("backend_type", "File", "backend_path", dir.resolve("vmlinux").toString()));
        var spec = dev.smartvm.firecracker.FirecrackerApiSpec.load("firecracker-v1.16.1.yaml");
        for (SnapshotLoad l : java.util.List.of(load, new SnapshotLoad(dir.resolve("initrd"), SnapshotLoad.MemoryBackend.Uffd,
                dir.resolve("uffd.sock"), false, null))) {
            assertThat(spec.validate(spec.bodySchema("PUT", "/snapshot/load"), l.request(layout, FirecrackerVersion.parse("1.16.1"),
                    SUPPORT).body())).as(l.toString()).isEmpty();
        }
        assertThatThrownBy(() -> load.request(layout, FirecrackerVersion.parse("1.11.0"), SUPPORT))
                .hasMessageContaining("network overrides on snapshot load need Firecracker 1.12.0 or newer");
    }
}

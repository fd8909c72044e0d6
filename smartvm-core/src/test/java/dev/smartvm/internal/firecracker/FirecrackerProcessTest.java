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

    /**
     * A saved state, as SmartVM keeps it: the copy restores with its own copy of the disk
     * (opened by the name the snapshot recorded, in its own directory) and its interface on its
     * own TAP; the snapshot's files are only read.
     */
    @Test
    void aSavedStateRestoresWithItsOwnDiskAndTap() throws Exception {
        Path disk = Files.write(dir.resolve("root.img"), "base disk".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        BootImage withDisk = new ImageBundle("fake", image.kernel(), image.initrd(), disk, "fake").boot();
        BootRequest first = new BootRequest("vm-a", Files.createDirectories(dir.resolve("vm-a")), withDisk, 1, 128,
                Acceleration.KVM).withNic(new dev.smartvm.spi.NicSpec("tapa", "06:00:00:00:00:0a", "ip=x", null));
        Path saved = Files.createDirectories(dir.resolve("saved"));
        FirecrackerProcess vm = (FirecrackerProcess) backend.launch(first);
        try {
            assertThat(vm.api().send("GET", "/vm/config", null).json().path("drives").get(0).path("path_on_host").asText())
                    .isEqualTo("root.ext4");
            assertThatThrownBy(() -> vm.saveState(saved)).hasMessageContaining("not paused");
            vm.pause();
            vm.saveState(saved);
            assertThatThrownBy(() -> vm.saveTemplate(saved)).extracting(e -> ((SmartVmException) e).code())
                    .isEqualTo(ErrorCode.INVALID_STATE); // not booted to be a template
        } finally {
            vm.terminate(Duration.ofSeconds(5));
        }
        assertThat(saved.toFile().list()).containsExactlyInAnyOrder("vmstate", "memory", "root.ext4");
        assertThat(saved.resolve("root.ext4")).hasContent("base disk");
        byte[] memory = Files.readAllBytes(saved.resolve("memory"));
        Files.writeString(dir.resolve("vm-a/root.ext4"), "the source wrote on"); // the snapshot keeps its own copy

        BootRequest copy = new BootRequest("vm-b", Files.createDirectories(dir.resolve("vm-b")), withDisk, 1, 128,
                Acceleration.KVM).withNic(new dev.smartvm.spi.NicSpec("tapb", "06:00:00:00:00:0b", "ip=y", null))
                .with(new dev.smartvm.spi.RestoreState(saved));
        FirecrackerProcess restored = (FirecrackerProcess) backend.launch(copy);
        try {
            assertThat(restored.instanceInfo().state()).isEqualTo("Running");
            var config = restored.api().send("GET", "/vm/config", null).json();
            assertThat(config.path("network-interfaces").get(0).path("host_dev_name").asText()).isEqualTo("tapb");
            assertThat(dir.resolve("vm-b/root.ext4")).hasContent("base disk");
            assertThat(dir.resolve("vm-b/firecracker.log")).exists();
        } finally {
            restored.terminate(Duration.ofSeconds(5));
        }
        assertThat(Files.readAllBytes(saved.resolve("memory"))).isEqualTo(memory);

        Files.delete(saved.resolve("root.ext4")); // a snapshot's disk gone: the load opens the recorded name and fails
        BootRequest broken = new BootRequest("vm-c", Files.createDirectories(dir.resolve("vm-c")), withDisk, 1, 128,
                Acceleration.KVM).with(new dev.smartvm.spi.RestoreState(saved));
        assertThatThrownBy(() -> backend.launch(broken)).hasMessageContaining("root.ext4")
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.BOOT_FAILED);
        assertThat(dir.resolve("vm-c/fc.sock")).doesNotExist();
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
                .containsEntry("mem_backend", Map.of("backend_type", "File", "backend_path", "vmlinux"));
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

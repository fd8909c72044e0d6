package dev.smartvm.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VmConfigTest {
    private static final BootSource BOOT = new BootSource("/k/vmlinux", null, "console=ttyS0");

    private static List<String> errors(VmConfig c) {
        return c.validate().errors();
    }

    private static VmConfig machine(MachineConfig m) {
        return new VmConfig(BOOT, m, List.of(), List.of(), null);
    }

    @Test
    void aMinimalConfigIsValid() {
        ValidationResult r = machine(MachineConfig.of(2, 256)).validate();
        assertThat(r.valid()).isTrue();
        assertThat(r.errors()).isEmpty();
    }

    @Test
    void copiesTheCallersListsDeeply() {
        List<Drive> drives = new ArrayList<>(List.of(Drive.of("rootfs", "/r.ext4", true, false)));
        VmConfig c = new VmConfig(BOOT, MachineConfig.of(1, 128), drives, null, null);
        drives.add(Drive.of("second", "/s.ext4", true, false));
        assertThat(c.drives()).hasSize(1);
        assertThat(c.networkInterfaces()).isEmpty();
        assertThatThrownBy(() -> c.drives().add(Drive.of("x", "/x", false, false))).isInstanceOf(UnsupportedOperationException.class);
        assertThat(c.validate().valid()).isTrue();
    }

    @Test
    void requiresABootSourceWithAKernel() {
        assertThat(errors(new VmConfig(null, MachineConfig.of(1, 128), null, null, null))).containsExactly("bootSource is required");
        assertThat(errors(new VmConfig(new BootSource(" ", null, null), MachineConfig.of(1, 128), null, null, null)))
                .containsExactly("bootSource.kernelImagePath is required");
    }

    @Test
    void checksTheMachine() {
        assertThat(errors(machine(MachineConfig.of(0, 128)))).containsExactly("machineConfig.vcpuCount must be between 1 and 32; found 0");
        assertThat(errors(machine(MachineConfig.of(33, 128)))).containsExactly("machineConfig.vcpuCount must be between 1 and 32; found 33");
        assertThat(errors(machine(new MachineConfig(3, 128, true, null, null, null))))
                .containsExactly("machineConfig.vcpuCount must be 1 or even when smt is enabled; found 3");
        assertThat(errors(machine(new MachineConfig(1, 128, true, null, null, null)))).isEmpty();
        assertThat(errors(machine(new MachineConfig(3, 128, false, null, null, null)))).isEmpty();
        assertThat(errors(machine(MachineConfig.of(1, 0)))).containsExactly("machineConfig.memSizeMib must be >= 1; found 0");
        assertThat(errors(machine(new MachineConfig(1, 129, null, null, "2M", null))))
                .containsExactly("machineConfig.memSizeMib must be a multiple of 2 with 2M huge pages; found 129");
        assertThat(errors(machine(new MachineConfig(1, 128, null, null, "1G", null))))
                .containsExactly("machineConfig.hugePages must be None or 2M; found '1G'");
    }

    @Test
    void checksDrives() {
        VmConfig twoRoots = new VmConfig(BOOT, MachineConfig.of(1, 128),
                List.of(Drive.of("rootfs", "/a", true, false), Drive.of("other", "/b", true, false)), null, null);
        assertThat(errors(twoRoots)).containsExactly("drives: at most one may be the root device; found 2 [rootfs, other]");
        VmConfig bad = new VmConfig(BOOT, MachineConfig.of(1, 128), List.of(
                Drive.of("has-dash", "/a", false, false),
                Drive.of("dup", "/b", false, false),
                Drive.of("dup", "/c", false, false),
                new Drive("opts", "/d", false, false, null, "Sometimes", "Turbo", null),
                new Drive("limited", "/e", false, false, null, null, null, new RateLimiter(new TokenBucket(-1, null, 100), null))),
                null, null);
        assertThat(errors(bad)).containsExactly(
                "drives[0].driveId may contain only letters, digits and '_'; found 'has-dash'",
                "drives[2].driveId 'dup' is used twice",
                "drives[3].cacheType must be Unsafe or Writeback; found 'Sometimes'",
                "drives[3].ioEngine must be Sync or Async; found 'Turbo'",
                "drives[4].rateLimiter.bandwidth.size must be >= 0; found -1");
    }

    @Test
    void checksNetworkInterfaces() {
        VmConfig bad = new VmConfig(BOOT, MachineConfig.of(1, 128), null, List.of(
                NetworkInterface.of("eth0", "tap-name-too-long", "02:00:00:00:00:01"),
                NetworkInterface.of("eth1", "tap1", "02:00:00:00:00"),
                NetworkInterface.of("eth2", "tap2", "01:00:5e:00:00:01"),
                NetworkInterface.of("eth2", "tap1", null),
                new NetworkInterface("eth4", "tap4", null, 40, null,
                        new RateLimiter(null, new TokenBucket(10, -5L, -1)))), null);
        assertThat(errors(bad)).containsExactly(
                "networkInterfaces[0].hostDevName must be 1 to 15 characters without '/' or spaces; found 'tap-name-too-long'",
                "networkInterfaces[1].guestMac must look like 02:aa:bb:cc:dd:ee; found '02:00:00:00:00'",
                "networkInterfaces[2].guestMac must not be a multicast address; found '01:00:5e:00:00:01'",
                "networkInterfaces[3].ifaceId 'eth2' is used twice",
                "networkInterfaces[3].hostDevName 'tap1' is used twice",
                "networkInterfaces[4].mtu must be between 68 and 65535; found 40",
                "networkInterfaces[4].txRateLimiter.ops.refillTimeMs must be >= 0; found -1",
                "networkInterfaces[4].txRateLimiter.ops.oneTimeBurst must be >= 0; found -5");
    }

    @Test
    void checksVsock() {
        VmConfig c = new VmConfig(BOOT, MachineConfig.of(1, 128), null, null, new Vsock(2, "/tmp/v.sock"));
        assertThat(errors(c)).containsExactly("vsock.guestCid must be >= 3; found 2");
    }

    @Test
    void checksTheOptionalDevices() {
        VmConfig c = new VmConfig(BOOT, MachineConfig.of(1, 128), null, List.of(NetworkInterface.of("eth0", "tap0", null)), null,
                new Balloon(-1, true, -5, null, null), new MmdsConfig("V3", List.of("eth0", "eth9"), "10.0.0.1", null),
                new Logger("Verbose", null, null, null, null), new Metrics(""), new EntropyDevice(
                        new RateLimiter(new TokenBucket(-2, null, 1), null)), new SerialDevice(null, new TokenBucket(1, null, -3)));
        assertThat(errors(c)).containsExactly(
                "balloon.amountMib must be >= 0; found -1",
                "balloon.statsPollingIntervalS must be >= 0; found -5",
                "mmds.version must be V1 or V2; found 'V3'",
                "mmds.ipv4Address must be a link-local address 169.254.1.0 to 169.254.254.255; found '10.0.0.1'",
                "mmds.networkInterfaces names 'eth9', which is not a configured interface",
                "logger.level must be one of Error, Warning, Info, Debug, Trace, Off; found 'Verbose'",
                "metrics.metricsPath is required",
                "entropy.rateLimiter.bandwidth.size must be >= 0; found -2",
                "serial.rateLimiter.refillTimeMs must be >= 0; found -3");
        assertThat(errors(new VmConfig(BOOT, MachineConfig.of(1, 128), null, null, null, null,
                new MmdsConfig(null, List.of(), null, null), null, null, null, null)))
                .containsExactly("mmds.networkInterfaces must name at least one interface");
    }

    @Test
    void everyErrorIsReportedAndOrThrowCarriesThemAll() {
        VmConfig c = new VmConfig(null, MachineConfig.of(0, 0), null, null, new Vsock(1, ""));
        assertThat(errors(c)).hasSize(5);
        assertThatThrownBy(() -> c.validate().orThrow())
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("bootSource is required").hasMessageContaining("vsock.udsPath is required");
    }

    @Test
    void payloadsUseTheApisNamesAndLeaveOutNulls() {
        assertThat(new BootSource("/k", null, "quiet").toPayload())
                .containsExactly(java.util.Map.entry("kernel_image_path", "/k"), java.util.Map.entry("boot_args", "quiet"));
        assertThat(MachineConfig.of(2, 512).toPayload()).containsOnlyKeys("vcpu_count", "mem_size_mib");
        assertThat(Drive.of("rootfs", "/r", true, true).toPayload())
                .containsOnlyKeys("drive_id", "path_on_host", "is_root_device", "is_read_only");
        assertThat(new TokenBucket(1, null, 2).toPayload()).containsOnlyKeys("size", "refill_time");
    }
}

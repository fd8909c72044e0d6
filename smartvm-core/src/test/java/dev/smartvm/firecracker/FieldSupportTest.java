package dev.smartvm.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.SmartVmException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

class FieldSupportTest {
    private static final FieldSupport SUPPORT = FieldSupport.load();

    private static FirecrackerVersion v(String s) {
        return FirecrackerVersion.parse(s);
    }

    @Test
    void ordersReleasesAndDevelopmentBuilds() {
        assertThat(v("1.17.0-dev")).isGreaterThan(v("1.16.1")).isLessThan(v("1.17.0"));
        assertThat(v("v1.16.1")).isEqualTo(v("1.16.1"));
        assertThat(v("1.10.0")).isGreaterThan(v("1.9.9"));
        assertThatThrownBy(() -> v("1.16")).isInstanceOf(SmartVmException.class).hasMessageContaining("1.16.1");
    }

    @Test
    void readsEveryShapeOfTheTable() {
        assertThat(SUPPORT.supports("Drive.drive_id", v("1.7.0"))).as("all (>=v1.7.0)").isTrue();
        assertThat(SUPPORT.supports("NetworkOverride.iface_id", v("1.11.1"))).as("v1.12.0..HEAD").isFalse();
        assertThat(SUPPORT.supports("NetworkOverride.iface_id", v("1.12.0"))).isTrue();
        assertThat(SUPPORT.supports("NetworkInterface.mtu", v("1.15.1"))).as("v1.16.0,v1.16.1,HEAD").isFalse();
        assertThat(SUPPORT.supports("NetworkInterface.mtu", v("1.16.0"))).isTrue();
        assertThat(SUPPORT.supports("NetworkInterface.mtu", v("1.17.0-dev"))).isTrue();
        // a backport: in 1.14.4 and 1.15.1, not in 1.15.0
        assertThat(SUPPORT.supports("SnapshotLoadParams.clock_realtime", v("1.14.4"))).isTrue();
        assertThat(SUPPORT.supports("SnapshotLoadParams.clock_realtime", v("1.15.0"))).isFalse();
        assertThat(SUPPORT.supports("SnapshotLoadParams.clock_realtime", v("1.15.1"))).isTrue();
        assertThat(SUPPORT.supports("Metrics.emit_id", v("1.16.1"))).as("HEAD only").isFalse();
        assertThat(SUPPORT.supports("Metrics.emit_id", v("1.17.0-dev"))).isTrue();
        assertThat(SUPPORT.supports("MmdsConfig.imds_comat", v("1.13.0"))).as("one release only").isTrue();
        assertThat(SUPPORT.supports("MmdsConfig.imds_comat", v("1.13.1"))).isFalse();
        assertThat(SUPPORT.supports("Nothing.like_this", v("1.7.0"))).as("unknown items are not gated").isTrue();
    }

    @Test
    void aFieldNewerThanTheTargetIsAnErrorBeforeAnythingIsSent() {
        VmConfig c = new VmConfig(new BootSource("/k", null, null), MachineConfig.of(1, 128), List.of(),
                List.of(new NetworkInterface("eth0", "tap0", null, 1500, null, null)), null);
        assertThat(c.validateFor(v("1.15.1"), SUPPORT).errors())
                .containsExactly("networkInterfaces[0].mtu needs Firecracker 1.16.0 or newer; the target is 1.15.1");
        assertThat(c.validateFor(v("1.16.1"), SUPPORT).valid()).isTrue();
        VmConfig withoutMtu = new VmConfig(c.bootSource(), c.machineConfig(), null,
                List.of(NetworkInterface.of("eth0", "tap0", null)), null);
        assertThat(withoutMtu.validateFor(v("1.7.0"), SUPPORT).valid()).isTrue();
    }

    @Test
    void gatesNestedAndWholeDevices() {
        VmConfig c = new VmConfig(new BootSource("/k", null, null), MachineConfig.of(1, 128), null, null, null,
                new Balloon(64, true, null, true, null), null, null, null, null, new SerialDevice("/s", null));
        assertThat(c.validateFor(v("1.13.1"), SUPPORT).errors()).containsExactly(
                "balloon.free_page_hinting needs Firecracker 1.14.0 or newer; the target is 1.13.1",
                "serial.serial_out_path needs Firecracker 1.14.0 or newer; the target is 1.13.1",
                "serial needs Firecracker 1.14.0 or newer; the target is 1.13.1");
        assertThat(c.validateFor(v("1.14.0"), SUPPORT).valid()).isTrue();
        VmConfig limitedSerial = new VmConfig(c.bootSource(), c.machineConfig(), null, null, null, null, null, null, null, null,
                new SerialDevice("/s", new TokenBucket(1, null, 1)));
        assertThat(limitedSerial.validateFor(v("1.15.1"), SUPPORT).errors())
                .containsExactly("serial.rate_limiter needs Firecracker 1.16.0 or newer; the target is 1.15.1");
    }

    @Test
    void theBundledTableIsTheProjectsReferenceFile() throws Exception {
        try (InputStream in = FieldSupport.class.getResourceAsStream(FieldSupport.RESOURCE)) {
            assertThat(in.readAllBytes()).isEqualTo(Files.readAllBytes(FirecrackerSpecTest.spec("fields-since-version.tsv")));
        }
    }
}

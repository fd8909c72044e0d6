package dev.smartvm.internal.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.Balloon;
import dev.smartvm.firecracker.BootSource;
import dev.smartvm.firecracker.Drive;
import dev.smartvm.firecracker.EntropyDevice;
import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerApiSpec;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.firecracker.Logger;
import dev.smartvm.firecracker.MachineConfig;
import dev.smartvm.firecracker.Metrics;
import dev.smartvm.firecracker.MmdsConfig;
import dev.smartvm.firecracker.NetworkInterface;
import dev.smartvm.firecracker.RateLimiter;
import dev.smartvm.firecracker.SerialDevice;
import dev.smartvm.firecracker.TokenBucket;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.firecracker.Vsock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every request of a plan exists in the spec, and its body validates against the operation's own schema. */
class FirecrackerPlanTest {
    private static final FirecrackerApiSpec SPEC = FirecrackerApiSpec.load("firecracker-v1.16.1.yaml");
    private static final FieldSupport SUPPORT = FieldSupport.load();
    private static final FirecrackerVersion V1_16_1 = FirecrackerVersion.parse("1.16.1");

    static VmConfig full() {
        TokenBucket bucket = new TokenBucket(1 << 20, null, 100);
        RateLimiter limiter = new RateLimiter(bucket, new TokenBucket(1000, 10L, 1000));
        return new VmConfig(new BootSource("/img/vmlinux", "/img/initramfs.cpio", "console=ttyS0 reboot=k panic=1"),
                new MachineConfig(2, 512, true, null, "None", true),
                List.of(Drive.of("rootfs", "/img/rootfs.ext4", true, false),
                        new Drive("scratch", "/img/scratch.img", false, false, null, "Writeback", "Async", limiter)),
                List.of(new NetworkInterface("eth0", "sv1a2b3c4d", "02:fc:00:00:00:01", 1500, limiter, null)),
                new Vsock(3, "/run/vm/v.sock"), new Balloon(64, true, 5, true, true),
                new MmdsConfig("V2", List.of("eth0"), "169.254.169.254", false),
                new Logger("Info", "/run/vm/fc.log", true, false, null), new Metrics("/run/vm/fc.metrics"),
                new EntropyDevice(limiter), new SerialDevice("/run/vm/serial.log", bucket));
    }

    @Test
    void everyRequestConformsToTheOperationItTargets() {
        List<ApiRequest> plan = FirecrackerPlan.of(full(), Map.of("latest", Map.of("meta-data", Map.of("id", "vm-1"))),
                V1_16_1, SUPPORT);
        for (ApiRequest r : plan) {
            JsonNode op = SPEC.operation(r.method(), r.template());
            assertThat(op.isMissingNode()).as(r.method() + " " + r.template() + " is in the spec").isFalse();
            JsonNode schema = SPEC.bodySchema(r.method(), r.template());
            if (schema == null) {
                assertThat(r.body()).as(r.path() + " takes no body").isNull();
            } else {
                assertThat(SPEC.validate(schema, r.body())).as(r.method() + " " + r.path() + " " + r.body()).isEmpty();
            }
        }
    }

    @Test
    void requestsComeInTheOrderFirecrackerNeeds() {
        List<String> paths = FirecrackerPlan.of(full(), Map.of("k", "v"), V1_16_1, SUPPORT).stream().map(ApiRequest::path).toList();
        assertThat(paths).containsExactly("/logger", "/metrics", "/machine-config", "/boot-source", "/drives/rootfs",
                "/drives/scratch", "/network-interfaces/eth0", "/vsock", "/mmds/config", "/mmds", "/balloon", "/entropy",
                "/serial", "/actions");
        ApiRequest start = FirecrackerPlan.of(full(), null, V1_16_1, SUPPORT).getLast();
        assertThat(start.body()).isEqualTo(Map.of("action_type", "InstanceStart"));
    }

    @Test
    void idsInPathAndBodyAgree() {
        for (ApiRequest r : FirecrackerPlan.of(full(), null, V1_16_1, SUPPORT)) {
            if (r.template().contains("{drive_id}")) {
                assertThat(r.path()).isEqualTo("/drives/" + r.body().get("drive_id"));
            }
            if (r.template().contains("{iface_id}")) {
                assertThat(r.path()).isEqualTo("/network-interfaces/" + r.body().get("iface_id"));
            }
        }
    }

    @Test
    void aConfigTheTargetCannotTakeSendsNothing() {
        assertThatThrownBy(() -> FirecrackerPlan.of(full(), null, FirecrackerVersion.parse("1.13.0"), SUPPORT))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("networkInterfaces[0].mtu needs Firecracker 1.16.0")
                .hasMessageContaining("serial needs Firecracker 1.14.0");
    }

    @Test
    void theMmdsContentsAreCopied() {
        Map<String, Object> inner = new HashMap<>(Map.of("id", "vm-1"));
        Map<String, Object> data = new HashMap<>(Map.of("meta", inner));
        ApiRequest mmds = FirecrackerPlan.of(full(), data, V1_16_1, SUPPORT).stream()
                .filter(r -> r.path().equals("/mmds")).findFirst().orElseThrow();
        inner.put("id", "changed");
        assertThat(mmds.body()).isEqualTo(Map.of("meta", Map.of("id", "vm-1")));
    }
}

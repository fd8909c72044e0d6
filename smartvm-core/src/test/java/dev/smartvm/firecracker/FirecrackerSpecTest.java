package dev.smartvm.firecracker;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.ValidationMessage;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Every payload the config model emits, over a matrix of configurations, validated by a JSON
 * Schema validator against the definitions of Firecracker's released OpenAPI spec. Firecracker
 * answers unknown fields with 400, so the definitions are made strict
 * ({@code additionalProperties: false}) for the check.
 */
class FirecrackerSpecTest {
    private static final FirecrackerApiSpec SPEC = FirecrackerApiSpec.load("firecracker-v1.16.1.yaml");

    static java.nio.file.Path spec(String file) {
        return FirecrackerApiSpec.file(file);
    }

    private static Set<ValidationMessage> check(String definition, Map<String, Object> payload) {
        return SPEC.validateDefinition(definition, payload);
    }

    private static void assertConforms(String definition, Map<String, Object> payload) {
        assertThat(check(definition, payload)).as(definition + " " + payload).isEmpty();
    }

    private static final TokenBucket BUCKET = new TokenBucket(1_000_000, 500_000L, 100);
    private static final RateLimiter LIMITER = new RateLimiter(BUCKET, new TokenBucket(100, null, 1000));

    @Test
    void bootSources() {
        assertConforms("BootSource", new BootSource("/k", null, null).toPayload());
        assertConforms("BootSource", new BootSource("/k", "/i", "console=ttyS0 reboot=k panic=1").toPayload());
    }

    @Test
    void machineConfigs() {
        assertConforms("MachineConfiguration", MachineConfig.of(1, 128).toPayload());
        assertConforms("MachineConfiguration", new MachineConfig(2, 1024, true, null, "2M", true).toPayload());
        assertConforms("MachineConfiguration", new MachineConfig(32, 65536, false, "None", "None", false).toPayload());
    }

    @Test
    void drives() {
        for (Drive d : List.of(Drive.of("rootfs", "/r.ext4", true, false), Drive.of("data_1", "/d.img", false, true),
                new Drive("full", "/f", true, false, "b4c2a1e0-01", "Writeback", "Async", LIMITER),
                new Drive("unsafe", "/u", false, false, null, "Unsafe", "Sync", new RateLimiter(null, BUCKET)))) {
            assertConforms("Drive", d.toPayload());
        }
    }

    @Test
    void networkInterfaces() {
        assertConforms("NetworkInterface", NetworkInterface.of("eth0", "sv0123456789ab", null).toPayload());
        assertConforms("NetworkInterface", new NetworkInterface("eth1", "tap1", "02:ab:cd:ef:01:23", 1500, LIMITER,
                new RateLimiter(BUCKET, null)).toPayload());
    }

    @Test
    void vsockAndRateLimiters() {
        assertConforms("Vsock", new Vsock(3, "/tmp/v.sock").toPayload());
        assertConforms("RateLimiter", LIMITER.toPayload());
        assertConforms("TokenBucket", new TokenBucket(0, 0L, 0).toPayload());
    }

    @Test
    void balloonMmdsLoggerMetricsEntropyAndSerial() {
        assertConforms("Balloon", Balloon.of(64, true).toPayload());
        assertConforms("Balloon", new Balloon(0, false, 5, true, true).toPayload());
        assertConforms("MmdsConfig", new MmdsConfig(null, List.of("eth0"), null, null).toPayload());
        assertConforms("MmdsConfig", new MmdsConfig("V2", List.of("eth0", "eth1"), "169.254.170.2", true).toPayload());
        assertConforms("Logger", new Logger(null, null, null, null, null).toPayload());
        assertConforms("Logger", new Logger("Debug", "/tmp/fc.log", true, true, "api_server::request").toPayload());
        assertConforms("Metrics", new Metrics("/tmp/fc.metrics").toPayload());
        assertConforms("EntropyDevice", new EntropyDevice(null).toPayload());
        assertConforms("EntropyDevice", new EntropyDevice(LIMITER).toPayload());
        assertConforms("SerialDevice", new SerialDevice("/tmp/serial.log", BUCKET).toPayload());
    }

    @Test
    void theCheckItselfRejectsWhatFirecrackerWould() {
        assertThat(check("Drive", Map.of("drive_id", "d", "is_root_device", true, "bogus_field", 1))).isNotEmpty();
        assertThat(check("Drive", Map.of("drive_id", "d"))).as("is_root_device is required").isNotEmpty();
        assertThat(check("MachineConfiguration", Map.of("vcpu_count", 1, "mem_size_mib", 1, "huge_pages", "1G"))).isNotEmpty();
        assertThat(check("Vsock", Map.of("guest_cid", 2, "uds_path", "/v"))).as("minimum 3").isNotEmpty();
        assertThat(check("SerialDevice", Map.of("rate_limiter", LIMITER.toPayload()))).as("a TokenBucket, not a RateLimiter").isNotEmpty();
    }
}

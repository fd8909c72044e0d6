package dev.smartvm.internal.firecracker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.firecracker.BootSource;
import dev.smartvm.firecracker.Drive;
import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerApiSpec;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.firecracker.MachineConfig;
import dev.smartvm.firecracker.NetworkInterface;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.firecracker.Vsock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The API client against a fake Firecracker that enforces the spec and Firecracker's rules. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FirecrackerApiClientTest {
    private static final FirecrackerApiSpec SPEC = FirecrackerApiSpec.load("firecracker-v1.16.1.yaml");

    @TempDir
    Path dir;

    private FakeFirecrackerApi fake;
    private FirecrackerApiClient client;

    @BeforeEach
    void start() throws Exception {
        fake = new FakeFirecrackerApi(dir.resolve("fc.sock"), SPEC, "1.16.1");
        client = new FirecrackerApiClient(dir.resolve("fc.sock"));
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        fake.close();
    }

    private static VmConfig config() {
        return new VmConfig(new BootSource("/img/vmlinux", null, "console=ttyS0"), MachineConfig.of(2, 256),
                List.of(Drive.of("rootfs", "/img/rootfs.ext4", true, false)),
                List.of(NetworkInterface.of("eth0", "sv0000000001", "02:fc:00:00:00:01")), new Vsock(3, "/run/v.sock"));
    }

    private static FirecrackerApiException refused(Runnable r) {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(r::run);
        assertThat(t).isInstanceOf(FirecrackerApiException.class);
        return (FirecrackerApiException) t;
    }

    @Test
    void configuresAndStartsAVmWithAPlan() {
        FirecrackerVersion version = FirecrackerVersion.parse(client.send("GET", "/version", null).json()
                .get("firecracker_version").asText());
        assertThat(version).isEqualTo(FirecrackerVersion.parse("1.16.1"));
        for (ApiRequest r : FirecrackerPlan.of(config(), Map.of("latest", Map.of("id", "vm-1")), version, FieldSupport.load())) {
            assertThat(client.send(r).status()).isEqualTo(204);
        }
        assertThat(client.send("GET", "/", null).json().get("state").asText()).isEqualTo("Running");
        client.send("PATCH", "/vm", Map.of("state", "Paused"));
        assertThat(fake.state()).isEqualTo("Paused");
        assertThat(fake.connectionsAccepted()).as("one kept-alive connection served everything").isEqualTo(1);
    }

    @Test
    void carriesFirecrackersStatusAndFaultMessage() {
        FirecrackerApiException before = refused(() -> client.send("PATCH", "/vm", Map.of("state", "Paused")));
        assertThat(before.status()).isEqualTo(400);
        assertThat(before.faultMessage()).isEqualTo("The requested operation is not supported before starting the microVM.");
        assertThat(before).hasMessageContaining("PATCH /vm").hasMessageContaining("HTTP 400");

        client.send("PUT", "/boot-source", new BootSource("/k", null, null).toPayload());
        client.send("PUT", "/actions", Map.of("action_type", "InstanceStart"));
        assertThat(refused(() -> client.send("PUT", "/machine-config", MachineConfig.of(1, 128).toPayload())).faultMessage())
                .isEqualTo("The requested operation is not supported after starting the microVM.");
    }

    @Test
    void theFakeRefusesWhatFirecrackerRefuses() {
        assertThat(refused(() -> client.send("PUT", "/machine-config", Map.of("vcpu_count", 1, "mem_size_mib", 128,
                "turbo", true))).faultMessage()).contains("turbo");
        assertThat(refused(() -> client.send("PUT", "/drives/rootfs", Drive.of("other", "/r", true, false).toPayload()))
                .faultMessage()).contains("does not match");
        assertThat(refused(() -> client.send("PUT", "/actions", Map.of("action_type", "InstanceStart"))).faultMessage())
                .contains("missing kernel configuration");
        assertThat(refused(() -> client.send("GET", "/no/such/thing", null)).faultMessage()).contains("Invalid request");
        String big = "x".repeat(FakeFirecrackerApi.MAX_PAYLOAD);
        assertThat(refused(() -> client.send("PUT", "/mmds", Map.of("blob", big))).faultMessage())
                .contains("larger than the limit of 51200");
    }

    @Test
    void neverOpensMoreThanTenConnections() throws Exception {
        List<CompletableFuture<Integer>> all = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            all.add(CompletableFuture.supplyAsync(() -> client.send("GET", "/version", null).status(),
                    r -> Thread.ofPlatform().start(r)));
        }
        for (CompletableFuture<Integer> f : all) {
            assertThat(f.get(20, TimeUnit.SECONDS)).isEqualTo(200);
        }
        assertThat(fake.maxConcurrentConnections()).isBetween(1, FirecrackerApiClient.MAX_CONNECTIONS);
        assertThat(client.idleConnections()).isBetween(1, FirecrackerApiClient.MAX_CONNECTIONS);
    }
}

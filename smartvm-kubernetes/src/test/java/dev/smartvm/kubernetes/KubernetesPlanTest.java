package dev.smartvm.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.smartvm.Acceleration;
import dev.smartvm.BootPlan;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.Capability;
import dev.smartvm.spi.EngineSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The backend's plan: the API requests a start makes, without a cluster. */
class KubernetesPlanTest {
    private final KubernetesBackend backend = new KubernetesBackend(() -> new KubernetesSettings(null, "team-a", null),
            "smartvm-owner-0011223344", host -> List.of());

    @Test
    void planIsThePolicyThenThePodInTheNamespace() throws Exception {
        BootRequest boot = new BootRequest("0123456789ab", Path.of("/tmp/planned"), null, 2, 512, Acceleration.TCG, null,
                new EngineSpec("alpine:3.20", true, List.of("10.0.0.0/8"), List.of(), List.of()), List.of());
        BootPlan plan = backend.plan(boot);
        assertThat(plan.backend()).isEqualTo("kubernetes");
        assertThat(plan.apiCalls()).extracting(c -> c.method() + " " + c.path()).containsExactly(
                "POST /apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies",
                "POST /api/v1/namespaces/team-a/pods");
        JsonNode pod = new ObjectMapper().readTree(plan.apiCalls().get(1).body());
        assertThat(pod.path("kind").asText()).isEqualTo("Pod");
        assertThat(pod.path("apiVersion").asText()).isEqualTo("v1");
        assertThat(pod.path("spec").path("runtimeClassName").asText()).isEqualTo("kata");
        assertThat(pod.path("metadata").path("labels").path("smartvm.dev/owner").asText()).isEqualTo("smartvm-owner-0011223344");
        JsonNode policy = new ObjectMapper().readTree(plan.apiCalls().get(0).body());
        assertThat(policy.path("kind").asText()).isEqualTo("NetworkPolicy");
        assertThat(policy.path("apiVersion").asText()).isEqualTo("networking.k8s.io/v1");
        assertThat(policy.toString()).contains("10.0.0.0/8").doesNotContain("0.0.0.0/0").doesNotContain("169.254.169.254");
    }

    @Test
    void itPullsItsOwnImagesMakesItsOwnNetworkRunsOnKvmAndNothingElse() {
        assertThat(backend.capabilities()).containsExactlyInAnyOrder(Capability.OWNS_IMAGES_AND_NETWORK, Capability.KVM_ONLY);
        assertThat(backend.name()).isEqualTo("kubernetes");
    }
}

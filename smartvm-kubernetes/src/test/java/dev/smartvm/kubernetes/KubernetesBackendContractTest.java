package dev.smartvm.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.Acceleration;
import dev.smartvm.BackendContract;
import dev.smartvm.ErrorCode;
import dev.smartvm.MicroVm;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.node.v1.RuntimeClass;
import io.fabric8.kubernetes.api.model.node.v1.RuntimeClassBuilder;
import io.fabric8.kubernetes.api.model.node.v1.RuntimeClassListBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import org.junit.jupiter.api.Test;

/**
 * The backend contract on the kubernetes backend, against fabric8's mock API server (CRUD mode,
 * strict about objects and verbs) with a {@link FakeKubelet} in front of it: pods start, and exec
 * runs for real (on this host, as the "container"), so the contract's commands, files and exit
 * codes go through the backend's own exec and tar code and the real wire protocol.
 */
class KubernetesBackendContractTest extends BackendContract {
    private static final String NS = "contract";
    private KubernetesMockServer server;
    private FakeKubelet kubelet;
    private KubernetesClient client;
    private final List<String> owners = new ArrayList<>();

    @Override
    protected String backend() {
        return KubernetesBackend.NAME;
    }

    @Override
    protected SmartVm.Builder configure(SmartVm.Builder builder) {
        if (server == null) {
            Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
            kubelet = new FakeKubelet(new KubernetesMixedDispatcher(expectations));
            server = new KubernetesMockServer(new Context(), new MockWebServer(), expectations, kubelet, true);
            server.init();
            client = server.createClient();
            kubelet.useClient(client);
            // cluster-scoped, which the CRUD mode does not keep: answered by expectations
            RuntimeClass kata = new RuntimeClassBuilder().withNewMetadata().withName("kata").endMetadata().withHandler("kata").build();
            server.expect().get().withPath("/apis/node.k8s.io/v1/runtimeclasses/kata").andReturn(200, kata).always();
            server.expect().get().withPath("/apis/node.k8s.io/v1/runtimeclasses").andReturn(200,
                    new RuntimeClassListBuilder().withItems(kata).build()).always();
        }
        KubernetesBackend backend = KubernetesBackend.on(client, new KubernetesSettings(null, NS, null), host -> List.of());
        owners.add(backend.owner());
        return builder.backend(backend);
    }

    @Override
    protected String image() {
        return "docker.io/library/alpine:3.20";
    }

    /** Pulled, but its container exits at once. */
    @Override
    protected String brokenImage() {
        return "docker.io/smartvm/" + FakeKubelet.EXITS_AT_ONCE + ":1";
    }

    @Override
    protected boolean canPause() {
        return false;
    }

    @Override
    protected boolean canSave() {
        return false;
    }

    @Override
    protected boolean canFork() {
        return false;
    }

    @Test
    void aVmIsAPodWithItsSpecAndGoesWithItsObjects() throws IOException {
        MicroVm vm = svm.start(spec().env("GREETING", "hi").workdir("/tmp").cpus(2).memoryMib(384).build());
        assertThat(vm.info().acceleration()).as("Kata's, on the nodes").isEqualTo(Acceleration.KVM);
        Pod pod = client.pods().inNamespace(NS).withName("smartvm-" + vm.id()).get();
        var container = pod.getSpec().getContainers().get(0);
        assertThat(container.getResources().getLimits()).containsEntry("cpu", new Quantity("2"))
                .containsEntry("memory", new Quantity("384Mi"));
        assertThat(container.getWorkingDir()).isEqualTo("/tmp");
        assertThat(container.getEnv()).extracting(e -> e.getName() + "=" + e.getValue()).containsExactly("GREETING=hi");
        assertThat(vm.exec("sh", "-c", "echo $GREETING; pwd").stdout()).isEqualTo("hi\n/tmp\n");
        vm.remove();
        assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
        assertThat(client.network().v1().networkPolicies().inNamespace(NS).list().getItems()).isEmpty();
    }

    /** The sandbox's objects, in the contract's namespace. */
    private List<String> objects() {
        List<String> names = new ArrayList<>();
        client.pods().inNamespace(NS).list().getItems().forEach(p -> names.add("pod " + p.getMetadata().getName()));
        client.network().v1().networkPolicies().inNamespace(NS).list().getItems()
                .forEach(p -> names.add("networkpolicy " + p.getMetadata().getName()));
        client.services().inNamespace(NS).list().getItems().forEach(p -> names.add("service " + p.getMetadata().getName()));
        return names;
    }

    private void refusedLeavingNothing(VmSpec spec, ErrorCode code, String... says) {
        int vms = svm.list().size();
        assertThatThrownBy(() -> svm.start(spec)).isInstanceOfSatisfying(SmartVmException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.getMessage()).contains(says);
        });
        assertThat(objects()).as("nothing left in the cluster").isEmpty();
        assertThat(svm.list()).as("no VM left").hasSize(vms);
    }

    @Test
    void aPodNoNodeCanTakeFailsWithTheSchedulersWordAndLeavesNothing() throws IOException {
        refusedLeavingNothing(spec().cpus(FakeKubelet.NODE_CPUS * 2)
                .network(new NetworkSpec(true, List.of("10.0.0.0/8"), List.of(), List.of("8080:80"), NetworkSpec.Mode.AUTO)).bootTimeout(Duration.ofSeconds(2)).build(), ErrorCode.HOST_OVERCOMMITTED,
                "0/1 nodes are available: 1 Insufficient cpu", "FailedScheduling");
    }

    @Test
    void anImageThatCannotBePulledFailsWithItsEventsAndLeavesNothing() throws IOException {
        refusedLeavingNothing(spec().image(FakeKubelet.UNPULLABLE_REGISTRY + "nothing:1").build(), ErrorCode.IMAGE_NOT_FOUND,
                "ErrImagePull", "Failed to pull image \"registry.invalid/nothing:1\"");
    }

    @Test
    void aNamespaceWithoutPermissionIsRefusedNamingThePermission() throws IOException {
        kubelet.deny("locked");
        try (SmartVm locked = SmartVm.builder().home(home.resolve("locked-home"))
                .backend(KubernetesBackend.on(client, new KubernetesSettings(null, "locked", null), host -> List.of())).build()) {
            assertThatThrownBy(() -> locked.start(spec().build())).isInstanceOfSatisfying(SmartVmException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.PERMISSION_DENIED);
                assertThat(e.getMessage()).contains("in the namespace \"locked\"").contains("smartvm doctor --backend kubernetes");
            });
            assertThat(locked.list()).isEmpty();
        }
    }

    @Override
    protected void engineClosed() {
        try {
            assertThat(client.pods().inNamespace(NS).list().getItems()).as("pods left in the cluster").isEmpty();
            assertThat(client.network().v1().networkPolicies().inNamespace(NS).list().getItems()).as("policies left").isEmpty();
            assertThat(kubelet.runningExecs()).as("exec processes left").isZero();
            assertThat(client.leases().inNamespace(NS).list().getItems()).as("a closed SmartVm's Lease is deleted").isEmpty();
            assertThat(Thread.getAllStackTraces().keySet()).as("nor is it renewed any more")
                    .noneMatch(t -> owners.stream().anyMatch(o -> t.getName().equals("smartvm-lease-" + o)) && t.isAlive());
        } finally {
            kubelet.close();
            client.close();
            server.destroy();
        }
    }
}

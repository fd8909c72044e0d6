package dev.smartvm.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.Acceleration;
import dev.smartvm.ErrorCode;
import dev.smartvm.ExecProcess;
import dev.smartvm.ExecRequest;
import dev.smartvm.ExecResult;
import dev.smartvm.HostCheck;
import dev.smartvm.SmartVmException;
import dev.smartvm.spi.AttachSpec;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.EngineSpec;
import dev.smartvm.spi.Guest;
import dev.smartvm.spi.VmmProcess;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributes;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewStatusBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.node.v1.RuntimeClass;
import io.fabric8.kubernetes.api.model.node.v1.RuntimeClassBuilder;
import io.fabric8.kubernetes.api.model.node.v1.RuntimeClassListBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.ErrorStreamMessage;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.server.mock.OutputStreamMessage;
import io.fabric8.kubernetes.client.server.mock.StatusStreamMessage;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend's lifecycle against fabric8's Kubernetes mock server in CRUD mode (objects are kept,
 * verbs checked); the kubelet's part (a pod's status) is played by the test, and exec by the
 * mock's expectations.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KubernetesBackendMockTest {
    private static final String NS = "sandboxes";
    private KubernetesMockServer server;
    private KubernetesClient client;
    private KubernetesBackend backend;

    @TempDir
    Path vmDir;

    @BeforeEach
    void start() {
        // CRUD (objects kept, verbs checked) with expectations first: the kubelet's and the exec API's parts
        Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
        server = new KubernetesMockServer(new Context(), new MockWebServer(), expectations,
                new KubernetesMixedDispatcher(expectations), true);
        server.init();
        client = server.createClient();
        // RuntimeClasses are cluster-scoped, which the CRUD mode does not keep: answered by expectations
        RuntimeClass kata = new RuntimeClassBuilder().withNewMetadata().withName("kata").endMetadata().withHandler("kata").build();
        server.expect().get().withPath("/apis/node.k8s.io/v1/runtimeclasses/kata").andReturn(200, kata).always();
        server.expect().get().withPath("/apis/node.k8s.io/v1/runtimeclasses").andReturn(200,
                new RuntimeClassListBuilder().withItems(kata).build()).always();
        backend = KubernetesBackend.on(client, new KubernetesSettings(null, NS, null), host -> List.of());
    }

    @AfterEach
    void stop() {
        backend.close(); // its Leases: the client is the test's
        client.close();
        server.destroy();
    }

    private BootRequest boot(String id) {
        return new BootRequest(id, vmDir, null, 1, 256, Acceleration.TCG, null,
                new EngineSpec("alpine:3.20", true, List.of("10.0.0.0/8"), List.of(), List.of("8080:80")), List.of());
    }

    /** The kubelet's part: the pod runs. */
    private void markRunning(String name) {
        Pod pod = client.pods().inNamespace(NS).withName(name).get();
        pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running")
                .withContainerStatuses(new ContainerStatusBuilder().withName("sandbox").withNewState().withNewRunning()
                        .endRunning().endState().build()).build());
        client.pods().inNamespace(NS).resource(pod).updateStatus();
    }

    @Test
    void launchMakesThePolicyServiceAndPodUnderAHeldLeaseAndTerminateDeletesThem() {
        VmmProcess vm = backend.launch(boot("aaaaaaaaaaaa"));
        String name = "smartvm-aaaaaaaaaaaa";
        Pod pod = client.pods().inNamespace(NS).withName(name).get();
        assertThat(pod.getSpec().getRuntimeClassName()).isEqualTo("kata");
        String owner = pod.getMetadata().getLabels().get("smartvm.dev/owner");
        assertThat(client.network().v1().networkPolicies().inNamespace(NS).withName(name).get()).isNotNull();
        assertThat(client.services().inNamespace(NS).withName(name).get().getSpec().getPorts()).hasSize(1);
        assertThat(OwnerLease.held(client, NS, owner, java.time.Instant.now())).as("its owner's Lease is held").isTrue();
        assertThat(vm.pid()).isEqualTo(-1);
        assertThat(vm.isAlive()).isTrue();

        markRunning(name);
        Guest guest = vm.guest(Duration.ofSeconds(10));
        assertThat(guest.isOpen()).isTrue();

        VmmProcess again = backend.attach(new AttachSpec(vmDir, -1, null));
        assertThat(again.isAlive()).as("another process finds the pod by the VM directory").isTrue();

        vm.terminate(Duration.ofSeconds(1));
        assertThat(client.pods().inNamespace(NS).withName(name).get()).isNull();
        assertThat(client.network().v1().networkPolicies().inNamespace(NS).withName(name).get()).isNull();
        assertThat(client.services().inNamespace(NS).withName(name).get()).isNull();
        assertThat(vm.isAlive()).isFalse();
        assertThat(vm.exitReason()).hasValueSatisfying(r -> assertThat(r).contains("deleted"));
    }

    @Test
    void aPodThatCannotPullItsImageFailsTheStartWithItsEvents() {
        VmmProcess vm = backend.launch(boot("bbbbbbbbbbbb"));
        String name = "smartvm-bbbbbbbbbbbb";
        Pod pod = client.pods().inNamespace(NS).withName(name).get();
        pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Pending")
                .withContainerStatuses(new ContainerStatusBuilder().withName("sandbox").withNewState().withNewWaiting()
                        .withReason("ImagePullBackOff").endWaiting().endState().build()).build());
        client.pods().inNamespace(NS).resource(pod).updateStatus();
        client.resource(new EventBuilder().withNewMetadata().withName(name + ".1").withNamespace(NS).endMetadata()
                .withNewInvolvedObject().withKind("Pod").withName(name).withNamespace(NS).endInvolvedObject()
                .withType("Warning").withReason("Failed").withMessage("Failed to pull image \"alpine:3.20\": not found").build())
                .create();
        assertThatThrownBy(() -> vm.guest(Duration.ofSeconds(10))).isInstanceOfSatisfying(SmartVmException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.IMAGE_NOT_FOUND);
            assertThat(e.getMessage()).contains("ImagePullBackOff").contains("Failed to pull image");
        });
    }

    @Test
    void anUnknownRuntimeClassIsRefusedBeforeAnythingIsMade() {
        KubernetesBackend other = KubernetesBackend.on(client, new KubernetesSettings(null, NS, "kata-fc"), host -> List.of());
        assertThatThrownBy(() -> other.launch(boot("cccccccccccc"))).isInstanceOfSatisfying(SmartVmException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("kata-fc").contains("kata");
        });
        assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
        assertThat(client.network().v1().networkPolicies().inNamespace(NS).list().getItems()).isEmpty();
    }

    @Test
    void objectsOfAnOwnerWhoseLeaseRanOutAreReapedAndOthersKept() {
        ZonedDateTime old = ZonedDateTime.now(ZoneOffset.UTC).minusMinutes(5);
        client.leases().inNamespace(NS).resource(new LeaseBuilder().withNewMetadata().withName("smartvm-owner-dead")
                .withNamespace(NS).endMetadata().withNewSpec().withHolderIdentity("smartvm-owner-dead").withLeaseDurationSeconds(60)
                .withRenewTime(old).endSpec().build()).create();
        client.leases().inNamespace(NS).resource(new LeaseBuilder().withNewMetadata().withName("smartvm-owner-live")
                .withNamespace(NS).endMetadata().withNewSpec().withHolderIdentity("smartvm-owner-live").withLeaseDurationSeconds(60)
                .withRenewTime(ZonedDateTime.now(ZoneOffset.UTC)).endSpec().build()).create();
        orphan("dead1", "smartvm-owner-dead");
        orphan("gone1", "smartvm-owner-never-held"); // its Lease is gone altogether
        orphan("live1", "smartvm-owner-live");
        orphan("kept1", OwnerLease.DETACHED);

        client.leases().inNamespace(NS).resource(new LeaseBuilder().withNewMetadata().withName("smartvm-owner-idle")
                .withNamespace(NS).withLabels(Map.of("app.kubernetes.io/managed-by", "smartvm")).endMetadata().withNewSpec()
                .withHolderIdentity("smartvm-owner-idle").withLeaseDurationSeconds(60).withRenewTime(old).endSpec().build()).create();

        List<String> listed = backend.reapOrphans(true);
        assertThat(listed).as("two pods, and a Lease that ran out with no object left").hasSize(3)
                .anySatisfy(l -> assertThat(l).startsWith("Lease sandboxes/smartvm-owner-idle"));
        assertThat(client.pods().inNamespace(NS).list().getItems()).as("a dry run deletes nothing").hasSize(4);

        backend.reapOrphans(false);
        assertThat(client.pods().inNamespace(NS).list().getItems().stream().map(p -> p.getMetadata().getName())
                .collect(Collectors.toSet())).containsExactlyInAnyOrder("smartvm-live1", "smartvm-kept1");
        assertThat(client.leases().inNamespace(NS).withName("smartvm-owner-idle").get()).isNull();
        assertThat(client.leases().inNamespace(NS).withName("smartvm-owner-live").get()).as("a held one stays").isNotNull();
        assertThat(backend.leftovers()).as("gc finds nothing more").isEmpty();
    }

    private void orphan(String id, String owner) {
        client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("smartvm-" + id).withNamespace(NS)
                .withLabels(Map.of("app.kubernetes.io/managed-by", "smartvm", "smartvm.dev/vm-id", id, "smartvm.dev/owner", owner))
                .endMetadata().withNewSpec().addNewContainer().withName("sandbox").withImage("alpine").endContainer().endSpec().build())
                .create();
    }

    @Test
    void execRunsTheCommandThroughTheWrapperWithSeparateStreamsAndTheExitCode() {
        VmmProcess vm = backend.launch(boot("dddddddddddd"));
        markRunning("smartvm-dddddddddddd");
        Guest guest = vm.guest(Duration.ofSeconds(10));
        ExecRequest request = new ExecRequest(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), Map.of("A", "1"), "/tmp",
                null, null, -1, null);
        List<String> argv = PodGuest.argv(request);
        assertThat(argv).containsExactly("/bin/sh", "-c", PodGuest.WRAPPER, "smartvm-exec", "/tmp", "0", "-1", "A=1",
                "sh", "-c", "echo out; echo err >&2; exit 3");
        server.expect().get().withPath(execPath("smartvm-dddddddddddd", argv)).andUpgradeToWebSocket()
                .open().waitFor(100).andEmit(new OutputStreamMessage("out\n")).waitFor(10).andEmit(new ErrorStreamMessage("err\n"))
                .waitFor(10).andEmit(new StatusStreamMessage(3)).done().once();
        ExecResult r = guest.run(request);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        assertThat(r.exitCode()).isEqualTo(3);
    }

    @Test
    void aStreamedExecGivesAllItsOutputThenTheEndAndItsExitCode() throws Exception {
        VmmProcess vm = backend.launch(boot("eeeeeeeeeeee"));
        markRunning("smartvm-eeeeeeeeeeee");
        Guest guest = vm.guest(Duration.ofSeconds(10));
        ExecRequest request = ExecRequest.of("sh", "-c", "echo one; echo two >&2");
        server.expect().get().withPath(execPath("smartvm-eeeeeeeeeeee", PodGuest.argv(request)))
                .andUpgradeToWebSocket().open().waitFor(100).andEmit(new OutputStreamMessage("one\n"))
                .waitFor(10).andEmit(new ErrorStreamMessage("two\n")).waitFor(10).andEmit(new StatusStreamMessage(2)).done().once();
        try (ExecProcess p = guest.start(request, false, null, null)) {
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.stdout()));
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.stderr()));
            assertThat(new String(out.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).as("all of it, then the end")
                    .isEqualTo("one\n");
            assertThat(new String(err.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).isEqualTo("two\n");
            assertThat(p.waitFor(Duration.ofSeconds(10)).code()).isEqualTo(2);
        }
    }

    private static byte[] readAll(java.io.InputStream in) {
        try {
            return in.readAllBytes();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void whatTheExecApiCannotDoIsRefused() {
        assertThatThrownBy(() -> PodGuest.argv(new ExecRequest(List.of("id"), Map.of(), null, null, null, 1000, null)))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED));
        assertThatThrownBy(() -> new PodVm(client, NS, "x").pause())
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.getMessage()).contains("qemu and firecracker"));
    }

    @Test
    void doctorChecksTheApiServerTheRuntimeClassAndEachPermission() {
        server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").andReply(201, request -> {
            SelfSubjectAccessReview review = Serialization.unmarshal(request.getUtf8Body(), SelfSubjectAccessReview.class);
            ResourceAttributes asked = review.getSpec().getResourceAttributes();
            boolean allowed = !("networkpolicies".equals(asked.getResource()) && "delete".equals(asked.getVerb()));
            review.setStatus(new SubjectAccessReviewStatusBuilder().withAllowed(allowed).build());
            return review;
        }).always();
        List<HostCheck> checks = backend.checks();
        assertThat(checks).extracting(HostCheck::what).containsExactly("kubernetes", "runtimeclass", "rbac");
        assertThat(checks.get(0).status()).isEqualTo("ok");
        assertThat(checks.get(1).status()).isEqualTo("ok");
        assertThat(checks.get(2).status()).isEqualTo("missing");
        assertThat(checks.get(2).detail()).contains("delete networking.k8s.io/networkpolicies").doesNotContain("create pods");

        KubernetesBackend otherClass = KubernetesBackend.on(client, new KubernetesSettings(null, NS, "kata-clh"), host -> List.of());
        assertThat(otherClass.checks().get(1)).satisfies(c -> {
            assertThat(c.status()).isEqualTo("missing");
            assertThat(c.detail()).contains("kata-clh");
        });
    }

    private static String execPath(String pod, List<String> argv) {
        return execPath(pod, argv, "stdout=true&stderr=true");
    }

    private static String execPath(String pod, List<String> argv, String streams) {
        StringBuilder b = new StringBuilder("/api/v1/namespaces/" + NS + "/pods/" + pod + "/exec?");
        for (String a : argv) {
            b.append("command=").append(URLEncoder.encode(a, StandardCharsets.UTF_8).replace("+", "%20")).append('&');
        }
        return b.append("container=sandbox&").append(streams).toString();
    }
}

package dev.smartvm.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The shapes of a sandbox's Pod, NetworkPolicy and Service. */
class SandboxObjectsTest {
    private static final Function<String, List<InetAddress>> RESOLVER = host -> {
        try {
            return switch (host) {
                case "api.example.test" -> List.of(InetAddress.getByName("203.0.113.7"), InetAddress.getByName("203.0.113.8"));
                default -> throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, host + " does not resolve");
            };
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    };

    private static SandboxRequest request(boolean network, List<String> allow, List<String> deny, List<String> publish) {
        return new SandboxRequest("0123456789ab", "sandboxes", "smartvm-owner-aa", "kata-qemu", "alpine:3.20", 2, 512,
                Map.of(), null, network, allow, deny, publish);
    }

    @Test
    void thePodRunsTheImageUnderItsRuntimeClassWithItsSizeAsRequestsAndLimits() {
        Pod pod = SandboxObjects.pod(request(false, List.of(), List.of(), List.of()));
        assertThat(pod.getMetadata().getName()).isEqualTo("smartvm-0123456789ab");
        assertThat(pod.getMetadata().getNamespace()).isEqualTo("sandboxes");
        assertThat(pod.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "smartvm")
                .containsEntry("smartvm.dev/vm-id", "0123456789ab").containsEntry("smartvm.dev/owner", "smartvm-owner-aa");
        assertThat(pod.getSpec().getRuntimeClassName()).isEqualTo("kata-qemu");
        assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
        assertThat(pod.getSpec().getAutomountServiceAccountToken()).as("no cluster credentials inside").isFalse();
        Container c = pod.getSpec().getContainers().get(0);
        assertThat(c.getImage()).isEqualTo("alpine:3.20");
        Map<String, Quantity> expected = Map.of("cpu", new Quantity("2"), "memory", new Quantity("512Mi"));
        assertThat(c.getResources().getLimits()).isEqualTo(expected);
        assertThat(c.getResources().getRequests()).isEqualTo(expected);
        assertThat(c.getCommand()).containsExactly("/bin/sh", "-c", SandboxObjects.KEEP_ALIVE);
    }

    @Test
    void anAllowListBecomesIpBlocksAndNeverReachesLinkLocal() {
        NetworkPolicy p = SandboxObjects.policy(request(true, List.of("10.0.0.0/8", "api.example.test:443"),
                List.of("10.9.0.0/16"), List.of()), RESOLVER);
        assertThat(p.getSpec().getPodSelector().getMatchLabels()).isEqualTo(Map.of("smartvm.dev/vm-id", "0123456789ab"));
        assertThat(p.getSpec().getPolicyTypes()).containsExactly("Ingress", "Egress");
        assertThat(allows(p, "10.1.2.3", 80)).isTrue();
        assertThat(allows(p, "10.9.1.1", 80)).as("denied within the allowed range").isFalse();
        assertThat(allows(p, "203.0.113.7", 443)).as("the hostname, pinned").isTrue();
        assertThat(allows(p, "203.0.113.8", 443)).isTrue();
        assertThat(allows(p, "203.0.113.7", 80)).as("only its port").isFalse();
        assertThat(allows(p, "8.8.8.8", 443)).isFalse();
        assertThat(allows(p, "169.254.169.254", 80)).isFalse();
        assertThat(p.getSpec().getIngress()).as("nothing published: no way in").isEmpty();
    }

    @Test
    void anOpenNetworkAllowsEverythingButLinkLocalAndTheDenied() {
        NetworkPolicy p = SandboxObjects.policy(request(true, List.of(), List.of("192.168.0.0/16"), List.of()), RESOLVER);
        assertThat(allows(p, "8.8.8.8", 443)).isTrue();
        assertThat(allows(p, "192.168.1.1", 443)).isFalse();
        assertThat(allows(p, "169.254.169.254", 80)).isFalse();
        assertThat(allows(p, "2001:db8::1", 80)).isTrue();
        assertThat(allows(p, "fe80::1", 80)).isFalse();
        NetworkPolicyEgressRule dns = p.getSpec().getEgress().get(p.getSpec().getEgress().size() - 1);
        assertThat(dns.getTo().get(0).getPodSelector().getMatchLabels()).containsEntry("k8s-app", "kube-dns");
        assertThat(dns.getPorts()).extracting(port -> port.getPort().getIntVal()).containsOnly(53);
    }

    @Test
    void noNetworkIsNothingInOrOut() {
        NetworkPolicy p = SandboxObjects.policy(request(false, List.of(), List.of(), List.of()), RESOLVER);
        assertThat(p.getSpec().getPolicyTypes()).containsExactly("Ingress", "Egress");
        assertThat(p.getSpec().getEgress()).isEmpty();
        assertThat(p.getSpec().getIngress()).isEmpty();
        assertThat(SandboxObjects.service(request(false, List.of(), List.of(), List.of("8080:80")))).isEmpty();
    }

    @Test
    void publishedPortsBecomeAServiceAndAWayIn() {
        SandboxRequest r = request(true, List.of(), List.of(), List.of("8080:80", "5353:53/udp"));
        Service s = SandboxObjects.service(r).orElseThrow();
        assertThat(s.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(s.getSpec().getSelector()).isEqualTo(Map.of("smartvm.dev/vm-id", "0123456789ab"));
        assertThat(s.getSpec().getPorts()).extracting(p -> p.getPort() + ">" + p.getTargetPort().getIntVal() + "/" + p.getProtocol())
                .containsExactly("8080>80/TCP", "5353>53/UDP");
        assertThat(SandboxObjects.policy(r, RESOLVER).getSpec().getIngress().get(0).getPorts())
                .extracting(p -> p.getPort().getIntVal()).containsExactly(80, 53);
        Service nodePort = SandboxObjects.service(request(true, List.of(), List.of(), List.of("30080:80"))).orElseThrow();
        assertThat(nodePort.getSpec().getType()).isEqualTo("NodePort");
        assertThat(nodePort.getSpec().getPorts().get(0).getNodePort()).isEqualTo(30080);
    }

    @Test
    void whatAPolicyCannotSayIsRefused() {
        assertThatThrownBy(() -> SandboxObjects.policy(request(true, List.of(), List.of("10.0.0.0/8:22"), List.of()), RESOLVER))
                .isInstanceOfSatisfying(SmartVmException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
                    assertThat(e.getMessage()).contains("10.0.0.0/8:22");
                });
        assertThatThrownBy(() -> SandboxObjects.policy(request(true, List.of("10.0.0.0/33"), List.of(), List.of()), RESOLVER))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> SandboxObjects.policy(request(true, List.of("nowhere.test"), List.of(), List.of()), RESOLVER))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.getMessage()).contains("nowhere.test"));
        assertThatThrownBy(() -> SandboxObjects.policy(request(true, List.of("169.254.169.254"), List.of(), List.of()), RESOLVER))
                .as("only link-local allowed: nothing left").isInstanceOf(SmartVmException.class);
        assertThatThrownBy(() -> SandboxObjects.service(request(true, List.of(), List.of(), List.of("127.0.0.1:8080:80"))))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED));
    }

    /** Whether the policy lets the pod reach {@code ip}:{@code port} over TCP, as a NetworkPolicy engine decides. */
    static boolean allows(NetworkPolicy p, String ip, int port) {
        String target = EgressRules.cidr(ip, ip);
        for (NetworkPolicyEgressRule rule : p.getSpec().getEgress()) {
            boolean portOk = rule.getPorts() == null || rule.getPorts().isEmpty() || rule.getPorts().stream()
                    .anyMatch(pp -> "TCP".equals(pp.getProtocol()) && pp.getPort().getIntVal() == port);
            for (NetworkPolicyPeer peer : rule.getTo()) {
                IPBlock b = peer.getIpBlock();
                if (portOk && b != null && EgressRules.contains(b.getCidr(), target)
                        && b.getExcept().stream().noneMatch(x -> EgressRules.contains(x, target))) {
                    return true;
                }
            }
        }
        return false;
    }
}

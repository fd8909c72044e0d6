package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The objects of one sandbox: its Pod, the NetworkPolicy that selects only it, and a Service for
 * its published ports. Every object is labelled with SmartVM, the VM id and the owning SmartVm's
 * Lease, by which a crashed owner's objects are found ({@link KubernetesBackend}).
 */
final class SandboxObjects {
    static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    static final String SMARTVM = "smartvm";
    static final String VM_ID = "smartvm.dev/vm-id";
    static final String OWNER = "smartvm.dev/owner";
    static final String CONTAINER = "sandbox";
    /** Link-local addresses (cloud metadata at 169.254.169.254 among them): never reachable, whatever the rules. */
    static final String LINK_LOCAL_V4 = "169.254.0.0/16";
    static final String LINK_LOCAL_V6 = "fe80::/10";
    /** Keeps the container up until it is deleted, with any image that has a shell; ends at once on SIGTERM. */
    static final String KEEP_ALIVE = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";
    private static final Pattern PUBLISH = Pattern.compile("(?:([0-9.]+):)?(\\d{1,5}):(\\d{1,5})(?:/(tcp|udp))?");

    private SandboxObjects() {
    }

    /** What one sandbox is made of. */
    record Sandbox(Pod pod, NetworkPolicy policy, Optional<Service> service) {
    }

    static String name(String vmId) {
        return "smartvm-" + vmId;
    }

    static Sandbox of(SandboxRequest r, Function<String, List<InetAddress>> resolver) {
        return new Sandbox(pod(r), policy(r, resolver), service(r));
    }

    private static ObjectMeta metadata(SandboxRequest r) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(MANAGED_BY, SMARTVM);
        labels.put(VM_ID, r.vmId());
        labels.put(OWNER, r.owner());
        return new ObjectMetaBuilder().withName(name(r.vmId())).withNamespace(r.namespace()).withLabels(labels).build();
    }

    static Pod pod(SandboxRequest r) {
        Map<String, Quantity> resources = Map.of("cpu", new Quantity(Integer.toString(r.cpus())),
                "memory", new Quantity(r.memoryMib() + "Mi"));
        return new PodBuilder().withMetadata(metadata(r))
                .withNewSpec()
                .withRuntimeClassName(r.runtimeClass())
                .withRestartPolicy("Never")
                .withAutomountServiceAccountToken(false) // the sandbox gets no credentials of the cluster
                .withEnableServiceLinks(false)
                .withTerminationGracePeriodSeconds(5L)
                .addNewContainer()
                .withName(CONTAINER)
                .withImage(r.image())
                .withCommand("/bin/sh", "-c", KEEP_ALIVE)
                .withWorkingDir(r.workdir())
                .withEnv(r.env().entrySet().stream().sorted(Map.Entry.comparingByKey())
                        .map(e -> new EnvVar(e.getKey(), e.getValue(), null)).toList())
                .withNewResources().withRequests(resources).withLimits(resources).endResources()
                .endContainer()
                .endSpec()
                .build();
    }

    /**
     * Selects only the sandbox's pod. Without a network: nothing in or out. With one: egress to the
     * allowed CIDRs (everything when none is), less the denied ones and link-local addresses, plus
     * DNS to the cluster's resolver; ingress only to published ports.
     */
    static NetworkPolicy policy(SandboxRequest r, Function<String, List<InetAddress>> resolver) {
        List<NetworkPolicyEgressRule> egress = new ArrayList<>();
        List<NetworkPolicyIngressRule> ingress = new ArrayList<>();
        if (r.network()) {
            List<String> denied = new ArrayList<>(List.of(LINK_LOCAL_V4, LINK_LOCAL_V6));
            for (EgressRules.Rule d : EgressRules.parse(r.deny(), resolver)) {
                if (d.port() != 0) {
                    throw new SmartVmException(ErrorCode.UNSUPPORTED, "deny rule '" + d.text() + "' names a port; a Kubernetes"
                            + " NetworkPolicy can only leave out whole addresses: deny the address, or allow the ports wanted");
                }
                denied.addAll(d.cidrs());
            }
            List<EgressRules.Rule> allowed = r.allow().isEmpty()
                    ? List.of(new EgressRules.Rule("everything", List.of("0.0.0.0/0", "::/0"), 0))
                    : EgressRules.parse(r.allow(), resolver);
            for (EgressRules.Rule a : allowed) {
                NetworkPolicyEgressRuleBuilder rule = new NetworkPolicyEgressRuleBuilder().withTo(peers(a.cidrs(), denied));
                if (a.port() != 0) {
                    rule.withPorts(ports(a.port()));
                }
                egress.add(rule.build());
            }
            egress.add(new NetworkPolicyEgressRuleBuilder().withTo(clusterDns()).withPorts(
                    new NetworkPolicyPortBuilder().withProtocol("UDP").withPort(new IntOrString(53)).build(),
                    new NetworkPolicyPortBuilder().withProtocol("TCP").withPort(new IntOrString(53)).build()).build());
            List<NetworkPolicyPort> published = new ArrayList<>();
            for (Published p : published(r.publish())) {
                published.add(new NetworkPolicyPortBuilder().withProtocol(p.protocol()).withPort(new IntOrString(p.guest())).build());
            }
            if (!published.isEmpty()) {
                ingress.add(new NetworkPolicyIngressRuleBuilder().withPorts(published).build());
            }
        }
        return new NetworkPolicyBuilder().withMetadata(metadata(r))
                .withNewSpec()
                .withNewPodSelector().withMatchLabels(Map.of(VM_ID, r.vmId())).endPodSelector()
                .withPolicyTypes("Ingress", "Egress")
                .withEgress(egress)
                .withIngress(ingress)
                .endSpec()
                .build();
    }

    /** One ipBlock per CIDR, leaving out the denied CIDRs that lie within it. */
    private static List<NetworkPolicyPeer> peers(List<String> cidrs, List<String> denied) {
        List<NetworkPolicyPeer> peers = new ArrayList<>();
        for (String cidr : cidrs) {
            List<String> except = new ArrayList<>();
            for (String d : denied) {
                if (!d.equals(cidr) && EgressRules.contains(cidr, d)) {
                    except.add(d);
                }
            }
            boolean wholeDenied = denied.stream().anyMatch(d -> EgressRules.contains(d, cidr));
            if (!wholeDenied) {
                peers.add(new NetworkPolicyPeerBuilder().withNewIpBlock().withCidr(cidr).withExcept(except).endIpBlock().build());
            }
        }
        if (peers.isEmpty()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "egress rules allow " + cidrs
                    + " but deny all of it (link-local addresses are always denied)");
        }
        return peers;
    }

    private static NetworkPolicyPeer clusterDns() {
        return new NetworkPolicyPeerBuilder()
                .withNewNamespaceSelector().withMatchLabels(Map.of("kubernetes.io/metadata.name", "kube-system")).endNamespaceSelector()
                .withNewPodSelector().withMatchLabels(Map.of("k8s-app", "kube-dns")).endPodSelector()
                .build();
    }

    private static List<NetworkPolicyPort> ports(int port) {
        return List.of(new NetworkPolicyPortBuilder().withProtocol("TCP").withPort(new IntOrString(port)).build(),
                new NetworkPolicyPortBuilder().withProtocol("UDP").withPort(new IntOrString(port)).build());
    }

    /** A published port: {@code [ADDR:]HOST:GUEST[/udp]}. */
    record Published(int host, int guest, String protocol) {
    }

    static List<Published> published(List<String> publish) {
        List<Published> out = new ArrayList<>();
        for (String p : publish) {
            Matcher m = PUBLISH.matcher(p.strip());
            if (!m.matches()) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a published port is [ADDR:]HOST:GUEST[/udp]; found '" + p + "'");
            }
            if (m.group(1) != null && !m.group(1).equals("0.0.0.0")) {
                throw new SmartVmException(ErrorCode.UNSUPPORTED, "published port '" + p + "' names a host address; a Kubernetes"
                        + " Service listens on the cluster's addresses: give HOST:GUEST");
            }
            int host = Integer.parseInt(m.group(2));
            int guest = Integer.parseInt(m.group(3));
            if (host < 1 || host > 65535 || guest < 1 || guest > 65535) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "ports are 1 to 65535; found '" + p + "'");
            }
            out.add(new Published(host, guest, "udp".equals(m.group(4)) ? "UDP" : "TCP"));
        }
        return out;
    }

    /**
     * A Service in front of the published ports: port HOST to the pod's GUEST; a NodePort (on
     * every node's HOST) when every HOST is in the NodePort range, else ClusterIP (reach it in the
     * cluster, or with {@code kubectl port-forward}).
     */
    static Optional<Service> service(SandboxRequest r) {
        List<Published> published = r.network() ? published(r.publish()) : List.of();
        if (published.isEmpty()) {
            return Optional.empty();
        }
        boolean nodePorts = published.stream().allMatch(p -> p.host() >= 30000 && p.host() <= 32767);
        List<ServicePort> ports = new ArrayList<>();
        for (Published p : published) {
            ServicePortBuilder port = new ServicePortBuilder().withName(p.protocol().toLowerCase() + "-" + p.host())
                    .withProtocol(p.protocol()).withPort(p.host()).withTargetPort(new IntOrString(p.guest()));
            if (nodePorts) {
                port.withNodePort(p.host());
            }
            ports.add(port.build());
        }
        return Optional.of(new ServiceBuilder().withMetadata(metadata(r))
                .withNewSpec().withType(nodePorts ? "NodePort" : "ClusterIP").withSelector(Map.of(VM_ID, r.vmId()))
                .withPorts(ports).endSpec().build());
    }
}

package dev.smartvm.kubernetes;

import dev.smartvm.HostCheck;
import dev.smartvm.SmartVmException;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.node.v1.RuntimeClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code smartvm doctor --backend kubernetes}: the cluster is reachable, the RuntimeClass exists,
 * and the credentials may do in the namespace what a sandbox needs (SelfSubjectAccessReview).
 */
final class ClusterChecks {
    /** Group, resource, verb: what starting, using and removing a sandbox asks of the API server. */
    static final List<String[]> NEEDED = List.of(
            new String[] {"", "pods", "create"}, new String[] {"", "pods", "get"}, new String[] {"", "pods", "delete"},
            new String[] {"", "pods", "list"}, new String[] {"", "pods/exec", "create"},
            new String[] {"", "services", "create"}, new String[] {"", "services", "delete"},
            new String[] {"", "events", "list"},
            new String[] {"networking.k8s.io", "networkpolicies", "create"},
            new String[] {"networking.k8s.io", "networkpolicies", "delete"},
            new String[] {"coordination.k8s.io", "leases", "create"}, new String[] {"coordination.k8s.io", "leases", "update"},
            new String[] {"coordination.k8s.io", "leases", "delete"});

    private ClusterChecks() {
    }

    static List<HostCheck> run(Supplier<KubernetesClient> clients, String namespace, String runtimeClass) {
        List<HostCheck> found = new ArrayList<>();
        KubernetesClient client;
        try {
            client = clients.get();
        } catch (SmartVmException e) {
            found.add(new HostCheck("missing", "kubernetes", e.getMessage(), "set up a kubeconfig (docs/kubernetes.md)"));
            return found;
        }
        try {
            found.add(new HostCheck("ok", "kubernetes", "API server " + client.getMasterUrl() + " (Kubernetes "
                    + client.getKubernetesVersion().getGitVersion() + "), namespace " + namespace, null));
        } catch (KubernetesClientException e) {
            found.add(new HostCheck("missing", "kubernetes", "the API server " + client.getMasterUrl() + " does not answer: "
                    + e.getMessage(), "check the kubeconfig context, or --kube-context"));
            return found;
        }
        try {
            RuntimeClass rc = client.resources(RuntimeClass.class).withName(runtimeClass).get();
            found.add(rc != null ? new HostCheck("ok", "runtimeclass", runtimeClass + " (handler " + rc.getHandler() + ")", null)
                    : new HostCheck("missing", "runtimeclass", "the cluster has no RuntimeClass '" + runtimeClass + "'",
                            "install Kata Containers with kata-deploy, or give --runtime-class"));
        } catch (KubernetesClientException e) {
            found.add(new HostCheck("info", "runtimeclass", "cannot read RuntimeClasses (" + e.getCode() + "): a missing '"
                    + runtimeClass + "' shows in the pod's events", null));
        }
        List<String> denied = new ArrayList<>();
        for (String[] need : NEEDED) {
            if (!allowed(client, namespace, need[0], need[1], need[2])) {
                denied.add(need[2] + " " + (need[0].isEmpty() ? "" : need[0] + "/") + need[1]);
            }
        }
        found.add(denied.isEmpty()
                ? new HostCheck("ok", "rbac", "may create, use and delete sandboxes in namespace " + namespace, null)
                : new HostCheck("missing", "rbac", "not allowed in namespace " + namespace + ": " + String.join(", ", denied),
                        "bind the Role of docs/kubernetes.md to this user or service account"));
        return found;
    }

    private static boolean allowed(KubernetesClient client, String namespace, String group, String resource, String verb) {
        String[] parts = resource.split("/", 2);
        SelfSubjectAccessReview review = new SelfSubjectAccessReviewBuilder().withNewSpec().withNewResourceAttributes()
                .withNamespace(namespace).withGroup(group).withResource(parts[0]).withSubresource(parts.length > 1 ? parts[1] : null)
                .withVerb(verb).endResourceAttributes().endSpec().build();
        SelfSubjectAccessReview answer = client.resource(review).create();
        return answer.getStatus() != null && Boolean.TRUE.equals(answer.getStatus().getAllowed());
    }
}

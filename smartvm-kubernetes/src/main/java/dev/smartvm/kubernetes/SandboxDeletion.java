package dev.smartvm.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;

/** Deletes, or changes the owner of, the three objects of one sandbox (by name: they share it). */
final class SandboxDeletion {
    private SandboxDeletion() {
    }

    /** The pod first (it must not run without its policy), then its Service and NetworkPolicy; missing ones are no error. */
    static void delete(KubernetesClient client, String namespace, String name, Duration grace) {
        try {
            client.pods().inNamespace(namespace).withName(name).withGracePeriod(grace.toSeconds()).delete();
            client.services().inNamespace(namespace).withName(name).delete();
            client.network().v1().networkPolicies().inNamespace(namespace).withName(name).delete();
        } catch (KubernetesClientException e) {
            throw KubeErrors.of("delete sandbox " + namespace + "/" + name, e);
        }
    }

    static void relabel(KubernetesClient client, String namespace, String name, String owner) {
        try {
            client.pods().inNamespace(namespace).withName(name).edit(p -> {
                p.getMetadata().getLabels().put(SandboxObjects.OWNER, owner);
                return p;
            });
            if (client.services().inNamespace(namespace).withName(name).get() != null) {
                client.services().inNamespace(namespace).withName(name).edit(s -> {
                    s.getMetadata().getLabels().put(SandboxObjects.OWNER, owner);
                    return s;
                });
            }
            client.network().v1().networkPolicies().inNamespace(namespace).withName(name).edit(n -> {
                n.getMetadata().getLabels().put(SandboxObjects.OWNER, owner);
                return n;
            });
        } catch (KubernetesClientException e) {
            throw KubeErrors.of("hand sandbox " + namespace + "/" + name + " over to " + owner, e);
        }
    }
}

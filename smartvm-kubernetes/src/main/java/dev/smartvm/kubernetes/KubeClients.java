package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;

/** A client configured the standard way: a kubeconfig ($KUBECONFIG, ~/.kube/config) and its context, or the pod's service account. */
final class KubeClients {
    private KubeClients() {
    }

    static KubernetesClient connect(String context) {
        String kubeconfig = System.getenv("KUBECONFIG");
        boolean hasConfig = kubeconfig != null && !kubeconfig.isBlank()
                || Files.exists(Path.of(System.getProperty("user.home"), ".kube", "config"));
        boolean inCluster = System.getenv("KUBERNETES_SERVICE_HOST") != null;
        if (!hasConfig && !inCluster) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "the kubernetes backend needs a cluster: no kubeconfig"
                    + " ($KUBECONFIG or ~/.kube/config) and not running in a pod; see docs/kubernetes.md");
        }
        Config config = Config.autoConfigure(context);
        if (context != null && (config.getCurrentContext() == null || !context.equals(config.getCurrentContext().getName()))) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the kubeconfig has no context '" + context + "'");
        }
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}

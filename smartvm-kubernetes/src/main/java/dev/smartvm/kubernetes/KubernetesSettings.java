package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.regex.Pattern;

/**
 * Where the kubernetes backend runs sandboxes. Each setting is system property
 * {@code smartvm.kubernetes.<name>}, else environment variable {@code SMARTVM_KUBE_<NAME>} (the CLI's
 * {@code --kube-context}, {@code --namespace} and {@code --runtime-class} set the properties).
 *
 * @param context the kubeconfig context; null for the current one (or the in-cluster service account)
 * @param namespace the namespace of the sandboxes' objects; null for the context's, else {@code default}
 * @param runtimeClass the pods' RuntimeClass, which gives them a VM boundary (Kata Containers: {@code kata},
 *     {@code kata-qemu}, {@code kata-fc}, {@code kata-clh})
 */
public record KubernetesSettings(String context, String namespace, String runtimeClass) {
    public static final String DEFAULT_RUNTIME_CLASS = "kata";
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

    public KubernetesSettings {
        context = blankToNull(context);
        namespace = blankToNull(namespace);
        runtimeClass = runtimeClass == null || runtimeClass.isBlank() ? DEFAULT_RUNTIME_CLASS : runtimeClass;
        if (namespace != null && !DNS_LABEL.matcher(namespace).matches()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a namespace is a DNS label (lower-case letters, digits"
                    + " and '-', at most 63); found '" + namespace + "'");
        }
        if (!DNS_SUBDOMAIN.matcher(runtimeClass).matches()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a RuntimeClass name is a DNS subdomain (lower-case"
                    + " letters, digits, '-' and '.'); found '" + runtimeClass + "'");
        }
    }

    /** From the system properties and the environment. */
    public static KubernetesSettings fromEnvironment() {
        return new KubernetesSettings(setting("context"), setting("namespace"), setting("runtimeClass"));
    }

    private static String setting(String name) {
        String value = System.getProperty("smartvm.kubernetes." + name);
        if (value == null || value.isBlank()) {
            value = System.getenv("SMARTVM_KUBE_" + name.replaceAll("([A-Z])", "_$1").toUpperCase());
        }
        return value;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}

package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import io.fabric8.kubernetes.client.KubernetesClientException;

/** The API server's refusals as SmartVM errors: what was asked, and why it was refused. */
final class KubeErrors {
    private KubeErrors() {
    }

    static SmartVmException of(String what, KubernetesClientException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException || t instanceof java.io.InterruptedIOException) {
                return new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while trying to " + what, e);
            }
        }
        String reason = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
        ErrorCode code = switch (e.getCode()) {
            case 401, 403 -> ErrorCode.PERMISSION_DENIED;
            case 404 -> ErrorCode.VM_NOT_FOUND;
            case 400, 409, 422 -> ErrorCode.INVALID_ARGUMENT;
            case 0 -> ErrorCode.VMM_ERROR; // no answer: the API server cannot be reached
            default -> ErrorCode.VMM_ERROR;
        };
        String hint = switch (e.getCode()) {
            case 401, 403 -> " (the credentials of the kubeconfig context lack this permission in the namespace: see"
                    + " 'smartvm doctor --backend kubernetes' and the RBAC in docs/kubernetes.md)";
            case 0 -> " (is the cluster reachable? check the kubeconfig context)";
            default -> "";
        };
        return new SmartVmException(code, "Kubernetes refused to " + what + ": " + reason + hint, e);
    }
}

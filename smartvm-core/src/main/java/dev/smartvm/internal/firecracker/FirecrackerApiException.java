package dev.smartvm.internal.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;

/** Firecracker refused a request: the HTTP status and Firecracker's own {@code fault_message}. */
public final class FirecrackerApiException extends SmartVmException {
    private final int status;
    private final String faultMessage;

    FirecrackerApiException(String method, String path, int status, String faultMessage) {
        super(ErrorCode.VMM_ERROR, "Firecracker refused " + method + " " + path + " (HTTP " + status + "): " + faultMessage);
        this.status = status;
        this.faultMessage = faultMessage;
    }

    public int status() {
        return status;
    }

    public String faultMessage() {
        return faultMessage;
    }
}

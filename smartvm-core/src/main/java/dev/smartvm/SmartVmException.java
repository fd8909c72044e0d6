package dev.smartvm;

import java.util.Objects;

/** The one exception SmartVM throws: unchecked, with a stable {@link ErrorCode}. */
public class SmartVmException extends RuntimeException {
    private final ErrorCode code;

    public SmartVmException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public SmartVmException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    public ErrorCode code() {
        return code;
    }

    @Override
    public String toString() {
        return "SmartVmException[" + code + "]: " + getMessage();
    }
}

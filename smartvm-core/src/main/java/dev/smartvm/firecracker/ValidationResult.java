package dev.smartvm.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.List;

/** The outcome of {@link VmConfig#validate()}: every error, each naming its field. */
public record ValidationResult(boolean valid, List<String> errors) {
    public ValidationResult {
        errors = List.copyOf(errors);
    }

    /** Throws {@code INVALID_ARGUMENT} listing every error, unless valid. */
    public void orThrow() {
        if (!valid) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "invalid VM configuration: " + String.join("; ", errors));
        }
    }
}

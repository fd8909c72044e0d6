package dev.smartvm.firecracker;

import java.util.Map;

/** Where the guest's serial output goes ({@code PUT /serial}); its limit is a single token bucket of bytes. */
public record SerialDevice(String serialOutPath, TokenBucket rateLimiter) implements ApiObject {
    void validate(Validation v) {
        if (rateLimiter != null) {
            rateLimiter.validate("serial.rateLimiter", v);
        }
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("serial_out_path", serialOutPath)
                .put("rate_limiter", rateLimiter == null ? null : rateLimiter.toPayload()).build();
    }
}

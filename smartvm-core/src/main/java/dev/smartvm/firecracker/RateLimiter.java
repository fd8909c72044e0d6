package dev.smartvm.firecracker;

import java.util.Map;

/** Independent limits on bytes per second ({@code bandwidth}) and operations per second ({@code ops}); either may be null. */
public record RateLimiter(TokenBucket bandwidth, TokenBucket ops) implements ApiObject {
    void validate(String field, Validation v) {
        if (bandwidth != null) {
            bandwidth.validate(field + ".bandwidth", v);
        }
        if (ops != null) {
            ops.validate(field + ".ops", v);
        }
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("bandwidth", bandwidth == null ? null : bandwidth.toPayload())
                .put("ops", ops == null ? null : ops.toPayload()).build();
    }
}

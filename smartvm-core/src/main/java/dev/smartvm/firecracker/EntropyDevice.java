package dev.smartvm.firecracker;

import java.util.Map;

/** A virtio-rng device ({@code PUT /entropy}), optionally rate limited. */
public record EntropyDevice(RateLimiter rateLimiter) implements ApiObject {
    void validate(Validation v) {
        if (rateLimiter != null) {
            rateLimiter.validate("entropy.rateLimiter", v);
        }
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("rate_limiter", rateLimiter == null ? null : rateLimiter.toPayload()).build();
    }
}

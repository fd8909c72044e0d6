package dev.smartvm.firecracker;

import java.util.Map;

/**
 * A token bucket of a rate limiter: {@code size} tokens, refilled over {@code refillTimeMs},
 * with an optional initial {@code oneTimeBurst}.
 */
public record TokenBucket(long size, Long oneTimeBurst, long refillTimeMs) implements ApiObject {
    void validate(String field, Validation v) {
        v.check(size >= 0, field + ".size must be >= 0; found " + size);
        v.check(refillTimeMs >= 0, field + ".refillTimeMs must be >= 0; found " + refillTimeMs);
        v.check(oneTimeBurst == null || oneTimeBurst >= 0, field + ".oneTimeBurst must be >= 0; found " + oneTimeBurst);
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("size", size).put("one_time_burst", oneTimeBurst).put("refill_time", refillTimeMs).build();
    }
}

package dev.smartvm;

import java.time.Duration;
import java.util.Objects;

/**
 * What a guest reports of itself through its agent.
 *
 * @param memoryTotalBytes the memory the guest's kernel manages (MemTotal)
 * @param memoryAvailableBytes what it could give to new work without swapping (MemAvailable)
 * @param activeRequests execs (terminals included) and copies running now
 * @param idle how long no exec, copy, files call or terminal input has been active; zero while one is
 */
public record GuestUsage(long memoryTotalBytes, long memoryAvailableBytes, int activeRequests, Duration idle) {
    public GuestUsage {
        Objects.requireNonNull(idle, "idle");
    }

    /** Memory in use: what is not available. */
    public long memoryUsedBytes() {
        return Math.max(0, memoryTotalBytes - memoryAvailableBytes);
    }
}

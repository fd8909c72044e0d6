package dev.smartvm;

import java.time.Duration;
import java.util.Objects;

/**
 * When a VM ends by itself: a lifetime (TTL) from its start, and an idle timeout. SmartVM's
 * watchdog enforces both, also when no process of the program that made the VM runs any more.
 *
 * @param ttl how long the VM may run from its start (or from the last {@code MicroVm.setTtl}); null for ever
 * @param onTtl what happens then (default: removed)
 * @param idleTimeout how long the VM may go without an exec, copy, files call or terminal being
 *     active before {@code onIdle} happens; null for never. Needs SmartVM's guest agent.
 * @param onIdle what happens then (default: stopped)
 */
public record TimeLimits(Duration ttl, OnTtl onTtl, Duration idleTimeout, OnIdle onIdle) {
    /** No limit. */
    public static final TimeLimits NONE = new TimeLimits(null, null, null, null);

    /** What a VM whose lifetime ended becomes. */
    public enum OnTtl {
        /** Stopped and removed, with all it held. */
        REMOVE,
        /** Stopped (its disk kept: it can be started again, with a new lifetime). */
        STOP
    }

    /** What an idle VM becomes. */
    public enum OnIdle {
        /** Stopped. */
        STOP,
        /** Paused; the next exec, copy or files call resumes it. */
        PAUSE
    }

    public TimeLimits {
        onTtl = Objects.requireNonNullElse(onTtl, OnTtl.REMOVE);
        onIdle = Objects.requireNonNullElse(onIdle, OnIdle.STOP);
        requirePositive("a TTL", ttl);
        requirePositive("an idle timeout", idleTimeout);
    }

    /** Whether there is any limit to enforce. */
    public boolean any() {
        return ttl != null || idleTimeout != null;
    }

    /** Checks {@code d} is null or longer than zero. */
    public static void requirePositive(String what, Duration d) {
        if (d != null && (d.isNegative() || d.isZero())) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, what + " must be longer than zero; found " + d);
        }
    }
}

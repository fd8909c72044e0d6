package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.TimeLimits;
import dev.smartvm.VmState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** A VM's time limits as they run: set at its start, changed by {@code smartvm ttl}, enforced by the {@link Watchdog}. */
public final class VmLimits {
    private VmLimits() {
    }

    /**
     * The VM is about to be recorded running (booted, or a pooled clone handed out): its lifetime
     * counts from now (written first: a watchdog must not find it running with a past run's end),
     * and a watchdog watches it.
     */
    static void started(VmContext context, VmRecord r) {
        Path dir = context.store().dir(r.id());
        TimeLimits limits = r.spec().timeLimits();
        Expiry.markIdlePaused(dir, false);
        Expiry.write(dir, limits.ttl() == null ? null : Instant.now().plus(limits.ttl()));
        if (limits.any()) {
            Watchdog.ensure(home(context));
        }
    }

    /** It is about to run again after a pause: no longer paused for idleness (whoever paused it). */
    static void unmarkIdlePause(VmContext context, String id) {
        Expiry.markIdlePaused(context.store().dir(id), false);
    }

    /**
     * It runs again after a pause: for one with an idle timeout, the resume counts as a call (its
     * guest's idleness went on from before the pause), and it is watched again.
     */
    static void resumed(VmContext context, VmRecord r) {
        if (r.spec().timeLimits().idleTimeout() != null) {
            Expiry.noteCall(context.store().dir(r.id()));
            Watchdog.ensure(home(context));
        }
    }

    /**
     * Before a call of the user's (exec, copy, files): its start is noted (the watchdog must not
     * pause the VM under a request on its way to the agent), and a VM the watchdog paused for
     * idleness is resumed; another caller waking it at the same time is no error.
     */
    public static void beforeCall(VmContext context, VmLifecycle life) {
        VmRecord r = life.current(); // (which follows a pause of the watchdog's)
        Path dir = context.store().dir(r.id());
        if (r.spec().timeLimits().idleTimeout() != null && r.spec().timeLimits().onIdle() == TimeLimits.OnIdle.PAUSE) {
            Expiry.noteCall(dir);
        }
        if (r.state() != VmState.PAUSED || !Expiry.idlePaused(dir)) {
            return;
        }
        try {
            life.suspend(false);
        } catch (SmartVmException e) {
            if (e.code() != ErrorCode.INVALID_STATE) {
                throw e;
            }
        }
    }

    /**
     * Brings a handle that saw its VM {@code seen} in line with a pause or wake-up by another
     * process: the watchdog pauses an idle VM (and marks it), any process's call wakes it (and
     * clears the mark). Cheap when nothing changed: a file's existence (and, for a paused VM, its record).
     */
    static void followSuspension(VmContext context, VmLifecycle life, VmState seen) {
        Path dir = context.store().dir(life.id());
        if (seen == VmState.RUNNING && Expiry.idlePaused(dir) && storedState(context, life.id()) == VmState.PAUSED) {
            // (the mark comes before the pause: only a pause the record shows done is followed)
            life.update(r -> r.state() == VmState.RUNNING ? r.withState(VmState.PAUSED) : r);
        } else if (seen == VmState.PAUSED && !Expiry.idlePaused(dir) && storedState(context, life.id()) == VmState.RUNNING) {
            life.update(r -> r.state() == VmState.PAUSED ? r.withState(VmState.RUNNING) : r);
        }
    }

    private static VmState storedState(VmContext context, String id) {
        return context.store().load(id).map(VmRecord::state).orElse(VmState.REMOVED);
    }

    /** When its lifetime ends; empty for never (or while it is not running or paused). */
    public static Optional<Instant> expiresAt(VmContext context, VmRecord r) {
        return r.state().isActive() ? Expiry.read(context.store().dir(r.id())) : Optional.empty();
    }

    /**
     * Its lifetime ends {@code ttl} from now (it is removed then, or stopped if its spec says
     * {@code onTtl} stop), whatever it was; any process may set it.
     *
     * @throws SmartVmException INVALID_ARGUMENT for a TTL not longer than zero; INVALID_STATE unless it runs or is paused
     */
    public static Instant setTtl(VmContext context, VmLifecycle life, Duration ttl) {
        if (ttl == null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "give a TTL");
        }
        TimeLimits.requirePositive("a TTL", ttl);
        VmRecord r = life.current();
        if (!r.state().isActive() || r.state() == VmState.STARTING) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot set the TTL of VM '" + r.name() + "': it is "
                    + r.state().name().toLowerCase() + " (a TTL counts from a start: give it with --ttl)");
        }
        Instant at = Instant.now().plus(ttl);
        Expiry.write(context.store().dir(r.id()), at);
        Watchdog.ensure(home(context));
        return at;
    }

    private static Path home(VmContext context) {
        return context.store().root().getParent();
    }
}

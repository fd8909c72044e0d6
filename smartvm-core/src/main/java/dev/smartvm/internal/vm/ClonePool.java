package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecRequest;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.function.Consumer;

/**
 * A warm pool of one template's clones: each restored, warmed by one exec (a new QEMU's
 * translation cache is empty: the first exec is the slow one) and paused, handed out by
 * {@link #take} as the VM a start asked for (renamed, its spec applied, resumed, its clock
 * set), and replaced in the background. Pooled clones are VMs of this process like any other:
 * listed, removed when the pool closes, reaped if the process dies.
 */
public final class ClonePool implements AutoCloseable {
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /**
     * How long a refill waits after a handoff: a new QEMU's start takes a core for a while, and
     * the clone just handed out should have its first commands to itself.
     */
    private static final Duration REFILL_DELAY = Duration.ofMillis(150);

    private final VmContext context;
    private final String template;
    private final int size;
    private final long ownerPid;
    private final Instant ownerStartedAt;
    private final Consumer<String> notices;
    private final LinkedBlockingDeque<VmLifecycle> ready = new LinkedBlockingDeque<>();
    private final Object refill = new Object();
    private final Thread filler;
    private volatile boolean closed;
    private volatile long lastTake = System.nanoTime() - REFILL_DELAY.toNanos();

    private ClonePool(VmContext context, String template, int size, long ownerPid, Instant ownerStartedAt,
            Consumer<String> notices) {
        this.context = context;
        this.template = template;
        this.size = size;
        this.ownerPid = ownerPid;
        this.ownerStartedAt = ownerStartedAt;
        this.notices = notices;
        this.filler = Thread.ofPlatform().daemon().name("smartvm-pool-" + template).unstarted(this::fill);
    }

    /**
     * A pool of {@code size} clones of {@code template}, filling in the background from now on.
     *
     * @throws SmartVmException TEMPLATE_NOT_FOUND; INVALID_ARGUMENT for a size below 1
     */
    public static ClonePool start(VmContext context, String template, int size, long ownerPid, Instant ownerStartedAt,
            Consumer<String> notices) {
        if (size < 1) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a pool holds at least one clone; found " + size);
        }
        context.templates().get(template);
        ClonePool pool = new ClonePool(context, template, size, ownerPid, ownerStartedAt, notices);
        pool.filler.start();
        return pool;
    }

    public String template() {
        return template;
    }

    /** How many clones wait, ready, now. */
    public int ready() {
        return ready.size();
    }

    private void fill() {
        int failures = 0;
        while (!closed) {
            if (ready.size() >= size) {
                awaitTake();
                continue;
            }
            long sinceTake = System.nanoTime() - lastTake;
            if (sinceTake < REFILL_DELAY.toNanos()) {
                sleep(Duration.ofNanos(REFILL_DELAY.toNanos() - sinceTake));
                continue;
            }
            try {
                ready.add(warmClone());
                failures = 0;
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                failures++;
                notices.accept("warning: the pool of template " + template + " could not make a clone: " + e.getMessage());
                sleep(Duration.ofMillis(Math.min(MAX_BACKOFF.toMillis(), 500L << Math.min(failures, 10))));
            }
        }
    }

    /** A clone, started, warmed by one exec and paused; removed again if anything fails (or the pool closed). */
    private VmLifecycle warmClone() {
        VmLifecycle life = VmCreation.create(context, VmSpec.builder().template(template).build(), ownerPid, ownerStartedAt);
        try {
            life.start();
            life.requireAgent("warm").run(ExecRequest.of("true"));
            life.suspend(true);
            if (closed) {
                throw new SmartVmException(ErrorCode.INVALID_STATE, "the pool closed");
            }
            return life;
        } catch (RuntimeException e) {
            life.remove();
            throw e;
        }
    }

    private void awaitTake() {
        synchronized (refill) {
            try {
                refill.wait(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closed = true;
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A ready clone as the VM {@code spec} asks for (a clone of this pool's template without a
     * network): renamed, its spec's env, workdir and timeouts applied, resumed; empty when the
     * spec is not for this pool or none is ready (the caller starts a clone itself).
     *
     * @throws SmartVmException NAME_IN_USE for a name another VM has
     */
    public Optional<VmLifecycle> take(VmSpec spec) {
        if (closed || !template.equals(spec.template()) || spec.network().enabled()) {
            return Optional.empty();
        }
        VmLifecycle life = ready.poll();
        if (life == null) {
            return Optional.empty();
        }
        lastTake = System.nanoTime();
        synchronized (refill) {
            refill.notifyAll();
        }
        try {
            adopt(life, spec);
            life.suspend(false);
            if (spec.name() != null) { // its hostname was the pool's name for it; its id and network stay
                life.requireAgent("identify").identify(life.id(), GuestLink.hostname(life.name()), null);
            }
            return Optional.of(life);
        } catch (SmartVmException e) {
            life.remove();
            if (e.code() == ErrorCode.NAME_IN_USE) {
                throw e;
            }
            return Optional.empty(); // it broke while it waited: the caller starts one afresh
        }
    }

    /** The clone as the VM {@code spec} asks for: its name (names stay unique across processes) and spec. */
    private void adopt(VmLifecycle life, VmSpec spec) {
        VmSpec asRun = VmCreation.asRun(context, spec);
        context.store().underNamesLock(() -> {
            String name = spec.name();
            if (name != null) {
                context.store().requireFreeName(name);
            }
            life.update(r -> r.adopted(name == null ? r.name() : name, asRun));
        });
        VmLimits.started(context, life.current()); // after: a watchdog's last look before it exits must see the limits
    }

    /** Stops filling and removes the clones that wait. Idempotent. */
    @Override
    public void close() {
        closed = true;
        synchronized (refill) {
            refill.notifyAll();
        }
        try {
            filler.join(Duration.ofSeconds(90)); // a clone being made is removed by its maker
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<VmLifecycle> left = new ArrayList<>();
        ready.drainTo(left);
        for (VmLifecycle life : left) {
            try {
                life.remove();
            } catch (RuntimeException e) {
                notices.accept("warning: removing a pooled clone of " + template + " failed: " + e.getMessage());
            }
        }
    }
}

package dev.smartvm.internal.net;

import dev.smartvm.NameResolver;
import dev.smartvm.SmartVmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps the addresses of one VM's hostname rules current: each name is resolved again when its
 * TTL ends (at least {@value #MIN_SECONDS} s, at most an hour apart), and when the addresses
 * changed, the VM's sets are refilled in one atomic nft transaction. Connections already made
 * to an old address live on (they carry the mark of the rules' generation, which stays); new
 * ones go only to the new addresses. A name that fails to resolve keeps its last addresses and is tried again
 * {@value #MIN_SECONDS} s later. One virtual thread per VM; {@link #close} stops it, and after
 * close returns nothing more is changed.
 */
public final class HostnamePins implements AutoCloseable {
    static final int MIN_SECONDS = 5;
    private static final Duration MIN = Duration.ofSeconds(MIN_SECONDS);
    private static final Duration MAX = Duration.ofHours(1);

    /** Puts a policy's addresses in place; false when the VM no longer holds its network (the pins stop). */
    @FunctionalInterface
    public interface Pinner {
        boolean pin(EgressPolicy policy);
    }

    private final NameResolver resolver;
    private final Pinner pinner;
    private final Clock clock;
    private final Thread thread;
    private volatile EgressPolicy policy;
    private volatile boolean closed;

    private HostnamePins(String vmId, EgressPolicy policy, NameResolver resolver, Pinner pinner, Clock clock) {
        this.policy = policy;
        this.resolver = resolver;
        this.pinner = pinner;
        this.clock = clock;
        this.thread = Thread.ofVirtual().name("smartvm-pins-" + vmId).unstarted(this::run);
    }

    /** Starts keeping {@code policy}'s hostnames current (whose addresses are in place already). */
    public static HostnamePins start(String vmId, EgressPolicy policy, NameResolver resolver, Pinner pinner) {
        HostnamePins pins = new HostnamePins(vmId, policy, resolver, pinner, Clock.systemUTC());
        pins.thread.start();
        return pins;
    }

    /** The policy with the addresses now in place. */
    public EgressPolicy policy() {
        return policy;
    }

    static Duration clamp(Duration ttl) {
        return ttl.compareTo(MIN) < 0 ? MIN : ttl.compareTo(MAX) > 0 ? MAX : ttl;
    }

    private void run() {
        Map<String, Instant> due = new HashMap<>();
        Instant now = clock.instant();
        for (EgressRule r : policy.rules()) {
            if (r.host() != null) {
                due.put(r.host(), now.plus(clamp(r.ttl())));
            }
        }
        while (!closed && !due.isEmpty()) {
            Instant next = due.values().stream().min(Instant::compareTo).orElseThrow();
            try {
                Thread.sleep(Math.max(0, Duration.between(clock.instant(), next).toMillis()));
            } catch (InterruptedException e) {
                return; // closed
            }
            if (!refreshDue(due) || closed) {
                return;
            }
        }
    }

    /** Resolves the names whose time came; false when the VM's network is gone. */
    private boolean refreshDue(Map<String, Instant> due) {
        Instant now = clock.instant();
        Map<String, NameResolver.Resolution> fresh = new HashMap<>();
        for (var e : due.entrySet()) {
            if (!e.getValue().isAfter(now)) {
                try {
                    NameResolver.Resolution r = resolver.resolve(e.getKey());
                    fresh.put(e.getKey(), r);
                    e.setValue(now.plus(clamp(r.ttl())));
                } catch (SmartVmException failed) {
                    e.setValue(now.plus(MIN)); // keep the last addresses; ask again soon
                }
            }
        }
        EgressPolicy before = policy;
        EgressPolicy after = before.map(r -> {
            NameResolver.Resolution r2 = r.host() == null ? null : fresh.get(r.host());
            return r2 == null ? r : r.withAddresses(r2.addresses()).withTtl(r2.ttl());
        });
        if (addresses(after).equals(addresses(before))) {
            return true;
        }
        try {
            if (closed || !pinner.pin(after)) {
                return false;
            }
        } catch (SmartVmException e) {
            return !closed; // nft failed: the old addresses stay; try again at the next TTL
        }
        policy = after;
        return true;
    }

    private static java.util.List<java.util.List<String>> addresses(EgressPolicy p) {
        return p.rules().stream().map(EgressRule::cidrs).toList();
    }

    /** Stops re-resolving; waits for an update under way to finish. Idempotent. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.smartvm.kubernetes;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Crash safety the Kubernetes way. A SmartVm instance's objects carry its Lease's name
 * ({@link SandboxObjects#OWNER}); it holds that {@code coordination.k8s.io} Lease and renews it
 * while it lives. Objects whose owner's Lease is gone or ran out belong to a process that died (or
 * a machine that did): {@link #reapOrphans} deletes them. A VM let go of on purpose (detached)
 * is relabelled {@link #DETACHED}, which no reaper touches.
 */
final class OwnerLease implements AutoCloseable {
    static final int DURATION_SECONDS = 60;
    static final String DETACHED = "detached";
    private static final Duration JOIN = Duration.ofSeconds(10);
    private static final Duration RENEW_EVERY = Duration.ofSeconds(DURATION_SECONDS / 3);

    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private volatile Thread renewer;
    private volatile boolean closed;

    OwnerLease(KubernetesClient client, String namespace, String name) {
        this.client = client;
        this.namespace = namespace;
        this.name = name;
    }

    /** Holds the Lease (made, or renewed), and keeps renewing it from a daemon thread. */
    synchronized void hold() {
        renew();
        if (renewer == null) {
            renewer = Thread.ofPlatform().daemon().name("smartvm-lease-" + name).start(() -> {
                while (!closed) {
                    try {
                        Thread.sleep(RENEW_EVERY);
                        renew();
                    } catch (InterruptedException e) {
                        return;
                    } catch (KubernetesClientException e) {
                        // the next round tries again; the Lease outlives a few failed renewals
                    }
                }
            });
        }
    }

    private void renew() {
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        Lease lease = new LeaseBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                .withLabels(Map.of(SandboxObjects.MANAGED_BY, SandboxObjects.SMARTVM)).endMetadata()
                .withNewSpec().withHolderIdentity(name).withLeaseDurationSeconds(DURATION_SECONDS)
                .withRenewTime(now).endSpec().build();
        Lease existing = client.leases().inNamespace(namespace).withName(name).get();
        if (existing == null) {
            lease.getSpec().setAcquireTime(now);
            client.leases().inNamespace(namespace).resource(lease).create();
        } else {
            existing.getSpec().setRenewTime(now);
            existing.getSpec().setLeaseDurationSeconds(DURATION_SECONDS);
            client.leases().inNamespace(namespace).resource(existing).update();
        }
    }

    /** Whether the Lease {@code owner} is held: it exists and was renewed within its duration. */
    static boolean held(KubernetesClient client, String namespace, String owner, Instant now) {
        Lease lease = client.leases().inNamespace(namespace).withName(owner).get();
        if (lease == null || lease.getSpec() == null || lease.getSpec().getRenewTime() == null) {
            return false;
        }
        Instant renewed = lease.getSpec().getRenewTime().toInstant();
        int seconds = lease.getSpec().getLeaseDurationSeconds() == null ? DURATION_SECONDS : lease.getSpec().getLeaseDurationSeconds();
        return renewed.plusSeconds(seconds).isAfter(now);
    }

    /** An object (or a Lease) of an owner whose Lease is not held, and how to delete it. */
    record Orphan(String description, Runnable delete) {
    }

    /**
     * The SmartVM objects of {@code namespace} whose owner's Lease is not held (gone, or not
     * renewed within its duration), then those owners' Leases; detached objects are nobody's orphans.
     */
    static List<Orphan> orphans(KubernetesClient client, String namespace) {
        Instant now = Instant.now();
        List<HasMetadata> objects = new ArrayList<>();
        objects.addAll(client.network().v1().networkPolicies().inNamespace(namespace).withLabel(SandboxObjects.MANAGED_BY,
                SandboxObjects.SMARTVM).list().getItems());
        objects.addAll(client.services().inNamespace(namespace).withLabel(SandboxObjects.MANAGED_BY, SandboxObjects.SMARTVM)
                .list().getItems());
        objects.addAll(client.pods().inNamespace(namespace).withLabel(SandboxObjects.MANAGED_BY, SandboxObjects.SMARTVM)
                .list().getItems());
        Set<String> dead = new LinkedHashSet<>();
        Set<String> alive = new LinkedHashSet<>();
        List<Orphan> orphans = new ArrayList<>();
        for (HasMetadata o : objects) {
            String owner = o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get(SandboxObjects.OWNER);
            if (owner == null || owner.equals(DETACHED) || alive.contains(owner)) {
                continue;
            }
            if (!dead.contains(owner)) {
                if (held(client, namespace, owner, now)) {
                    alive.add(owner);
                    continue;
                }
                dead.add(owner);
            }
            orphans.add(new Orphan(o.getKind() + " " + namespace + "/" + o.getMetadata().getName() + " (owner " + owner
                    + ", whose Lease ran out)", () -> client.resource(o).inNamespace(namespace).delete()));
        }
        for (Lease lease : client.leases().inNamespace(namespace).withLabel(SandboxObjects.MANAGED_BY, SandboxObjects.SMARTVM)
                .list().getItems()) {
            String owner = lease.getMetadata().getName();
            if (dead.contains(owner) || !alive.contains(owner) && !held(client, namespace, owner, now)) {
                orphans.add(new Orphan("Lease " + namespace + "/" + owner + " (ran out)",
                        () -> client.leases().inNamespace(namespace).withName(owner).delete()));
            }
        }
        return orphans;
    }

    /** Deletes (unless {@code dryRun}) the {@link #orphans} of {@code namespace}; returns their descriptions. */
    static List<String> reapOrphans(KubernetesClient client, String namespace, boolean dryRun) {
        List<String> reaped = new ArrayList<>();
        for (Orphan o : orphans(client, namespace)) {
            if (!dryRun) {
                o.delete().run();
            }
            reaped.add(o.description());
        }
        return reaped;
    }

    /** Stops renewing and deletes the Lease (its owner's objects are gone by then, or detached). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (renewer != null) {
            renewer.interrupt();
            try {
                renewer.join(JOIN.toMillis()); // a renewal under way would make the Lease again after its deletion
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                client.leases().inNamespace(namespace).withName(name).delete();
            } catch (KubernetesClientException e) {
                // it runs out by itself
            }
        }
    }
}

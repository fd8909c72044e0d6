package dev.smartvm.kubernetes;

import dev.smartvm.BootPlan;
import dev.smartvm.ErrorCode;
import dev.smartvm.HostCheck;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import dev.smartvm.spi.AttachSpec;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.Capability;
import dev.smartvm.spi.EngineLeftover;
import dev.smartvm.spi.EngineSpec;
import dev.smartvm.spi.VmmProcess;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.node.v1.RuntimeClass;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@code kubernetes} engine: each sandbox is a Pod whose RuntimeClass (Kata Containers) gives
 * it a VM boundary, with a NetworkPolicy for its egress rules and a Service for its published ports
 * ({@link SandboxObjects}). It pulls its own images and makes its own network
 * ({@link Capability#OWNS_IMAGES_AND_NETWORK}); it cannot pause, save or fork a sandbox.
 */
public final class KubernetesBackend implements Backend {
    public static final String NAME = "kubernetes";
    private static final KubernetesSerialization JSON = new KubernetesSerialization();

    private final Supplier<KubernetesSettings> settings;
    private final String owner;
    private final Function<String, List<InetAddress>> resolver;
    private final Map<String, OwnerLease> leases = new HashMap<>();
    private final Set<String> reaped = ConcurrentHashMap.newKeySet();
    private KubernetesClient client;
    private boolean ownsClient = true;

    KubernetesBackend(Supplier<KubernetesSettings> settings, String owner, Function<String, List<InetAddress>> resolver) {
        this.settings = settings;
        this.owner = owner;
        this.resolver = resolver;
    }

    /** On {@code client} (a test's mock server), owning its objects under a Lease name of its own. */
    static KubernetesBackend on(KubernetesClient client, KubernetesSettings settings, Function<String, List<InetAddress>> resolver) {
        KubernetesBackend b = new KubernetesBackend(() -> settings, newOwner(), resolver);
        b.client = client;
        b.ownsClient = false;
        return b;
    }

    /**
     * Configured by {@link KubernetesSettings#fromEnvironment()} when first used (a bad setting fails
     * that use, not every SmartVm), owning its objects under a Lease name of its own.
     */
    public static KubernetesBackend fromEnvironment() {
        KubernetesSettings[] read = new KubernetesSettings[1];
        Supplier<KubernetesSettings> once = () -> {
            synchronized (read) {
                if (read[0] == null) {
                    read[0] = KubernetesSettings.fromEnvironment();
                }
                return read[0];
            }
        };
        return new KubernetesBackend(once, newOwner(), EgressRules::resolve);
    }

    /** The name of the Lease its objects are labelled with. */
    String owner() {
        return owner;
    }

    /** A fresh Lease name for one SmartVm instance's objects. */
    static String newOwner() {
        byte[] random = new byte[5];
        new SecureRandom().nextBytes(random);
        return "smartvm-owner-" + HexFormat.of().formatHex(random);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** KVM only: Kata's VMs run on the nodes' KVM (so this host is never probed for KVM, and never falls back to TCG). */
    @Override
    public Set<Capability> capabilities() {
        return Set.of(Capability.OWNS_IMAGES_AND_NETWORK, Capability.KVM_ONLY);
    }

    /**
     * The namespace the objects go to: the setting, else the kubeconfig context's (read from the
     * file, no cluster contacted), else {@code default}.
     */
    String namespace() {
        if (settings.get().namespace() != null) {
            return settings.get().namespace();
        }
        String fromConfig = Config.autoConfigure(settings.get().context()).getNamespace();
        return fromConfig == null || fromConfig.isBlank() ? "default" : fromConfig;
    }

    SandboxRequest request(BootRequest boot) {
        EngineSpec e = boot.engine();
        if (e == null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the kubernetes backend needs the image reference and network"
                    + " of the VM (BootRequest.engine)");
        }
        ContainerDefaults defaults = boot.extension(ContainerDefaults.class).orElse(ContainerDefaults.NONE);
        return new SandboxRequest(boot.vmId(), namespace(), owner, settings.get().runtimeClass(), e.imageRef(), boot.cpus(),
                boot.memoryMib(), defaults.env(), defaults.workdir(), e.network(), e.allow(), e.deny(), e.publish());
    }

    /** The VM's env and working directory, which its pod's container gets too (what {@code kubectl exec} then sees). */
    @Override
    public List<Object> options(VmSpec spec) {
        Backend.super.options(spec);
        return List.of(new ContainerDefaults(spec.env(), spec.workdir()));
    }

    /** A boot request's extension: what every exec of the VM gets, given to its container as well. */
    record ContainerDefaults(Map<String, String> env, String workdir) {
        static final ContainerDefaults NONE = new ContainerDefaults(Map.of(), null);

        ContainerDefaults {
            env = Map.copyOf(env);
        }
    }

    /** The objects a start creates, as the API requests that create them, in order; no cluster is contacted. */
    @Override
    public BootPlan plan(BootRequest boot) {
        SandboxRequest r = request(boot);
        SandboxObjects.Sandbox s = SandboxObjects.of(r, resolver);
        String ns = "/namespaces/" + r.namespace();
        List<BootPlan.ApiCall> calls = new ArrayList<>();
        calls.add(new BootPlan.ApiCall("POST", "/apis/networking.k8s.io/v1" + ns + "/networkpolicies", JSON.asJson(s.policy())));
        s.service().ifPresent(svc -> calls.add(new BootPlan.ApiCall("POST", "/api/v1" + ns + "/services", JSON.asJson(svc))));
        calls.add(new BootPlan.ApiCall("POST", "/api/v1" + ns + "/pods", JSON.asJson(s.pod())));
        return new BootPlan(NAME, List.of(), calls);
    }

    /** The client, made on first use from the settings' kubeconfig context (or the in-cluster service account). */
    synchronized KubernetesClient client() {
        if (client == null) {
            client = KubeClients.connect(settings.get().context());
        }
        return client;
    }

    private synchronized OwnerLease lease(String namespace) {
        return leases.computeIfAbsent(namespace, ns -> new OwnerLease(client(), ns, owner));
    }

    /**
     * When its SmartVm closes (its sandboxes removed or detached by then): stops renewing and
     * deletes its Leases, and closes the client it made. Used again, it starts over.
     */
    @Override
    public synchronized void close() {
        leases.values().forEach(OwnerLease::close);
        leases.clear();
        reaped.clear();
        if (client != null && ownsClient) {
            client.close();
            client = null;
        }
    }

    /**
     * Creates the sandbox's NetworkPolicy, Service and Pod, in that order (the pod never runs
     * without its policy), under this instance's Lease; its first start in a namespace deletes first
     * what owners whose Lease ran out left. What was made is deleted again if a later one is refused. The pod runs once
     * {@link PodVm#guest} says so.
     */
    @Override
    public VmmProcess launch(BootRequest boot) {
        SandboxRequest r = request(boot);
        SandboxObjects.Sandbox s = SandboxObjects.of(r, resolver); // bad rules fail before anything exists
        KubernetesClient k = client();
        requireRuntimeClass(k, r.runtimeClass());
        try {
            lease(r.namespace()).hold();
            if (reaped.add(r.namespace())) { // once per instance and namespace: a listing of the namespace is no per-start cost
                OwnerLease.reapOrphans(k, r.namespace(), false);
            }
        } catch (KubernetesClientException e) {
            throw KubeErrors.of("hold a Lease in namespace " + r.namespace(), e);
        }
        List<HasMetadata> made = new ArrayList<>();
        try {
            made.add(k.resource(s.policy()).create());
            if (s.service().isPresent()) {
                made.add(k.resource(s.service().get()).create());
            }
            made.add(k.resource(s.pod()).create());
            PodRef.write(boot.vmDir(), r.namespace(), s.pod().getMetadata().getName());
        } catch (KubernetesClientException e) {
            undo(k, made);
            throw KubeErrors.of("create sandbox " + r.namespace() + "/" + s.pod().getMetadata().getName(), e);
        } catch (RuntimeException e) {
            undo(k, made);
            throw e;
        }
        return new PodVm(k, r.namespace(), s.pod().getMetadata().getName());
    }

    private static void undo(KubernetesClient k, List<HasMetadata> made) {
        for (int i = made.size() - 1; i >= 0; i--) {
            try {
                k.resource(made.get(i)).delete();
            } catch (KubernetesClientException ignored) {
                // the owner's Lease runs out: the next start or 'smartvm gc' deletes it
            }
        }
    }

    /** An unknown RuntimeClass would leave the pod pending for ever: refused first, naming the ones there are. */
    private static void requireRuntimeClass(KubernetesClient k, String name) {
        try {
            if (k.resources(RuntimeClass.class).withName(name).get() == null) {
                List<String> known = k.resources(RuntimeClass.class).list().getItems().stream().map(c -> c.getMetadata().getName())
                        .sorted().toList();
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the cluster has no RuntimeClass '" + name + "' (it has "
                        + (known.isEmpty() ? "none: install Kata Containers with kata-deploy" : String.join(", ", known))
                        + "); give one with --runtime-class");
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != 403) {
                throw KubeErrors.of("read RuntimeClass " + name, e);
            }
            // not allowed to read RuntimeClasses (cluster-scoped): the pod's events will say if it is missing
        }
    }

    @Override
    public VmmProcess attach(AttachSpec spec) {
        PodRef ref = PodRef.read(spec.vmDir()).orElseThrow(() -> new SmartVmException(ErrorCode.VM_NOT_FOUND,
                "the VM in " + spec.vmDir() + " has no record of its pod"));
        return new PodVm(client(), ref.namespace(), ref.name());
    }

    /** Deletes the sandbox's objects once its VM is removed (also when its owner died: the reaper removes it). */
    @Override
    public void discard(Path vmDir) {
        PodRef.read(vmDir).ifPresent(ref -> SandboxDeletion.delete(client(), ref.namespace(), ref.name(), Duration.ofSeconds(5)));
    }

    /** {@code smartvm doctor --backend kubernetes}: the API server, the RuntimeClass, the permissions in the namespace. */
    @Override
    public List<HostCheck> checks() {
        KubernetesSettings s = settings.get();
        return ClusterChecks.run(this::client, namespace(), s.runtimeClass());
    }

    /**
     * For {@code smartvm gc}: the objects of the namespace whose owner's Lease ran out. Only when
     * this backend is set up here (a context or namespace set): {@code gc} must not reach for a
     * cluster its user never meant SmartVM to use.
     */
    @Override
    public List<EngineLeftover> leftovers() {
        KubernetesSettings s = settings.get();
        if (s.context() == null && s.namespace() == null) {
            return List.of();
        }
        String ns = namespace();
        try {
            return OwnerLease.orphans(client(), ns).stream()
                    .map(o -> new EngineLeftover(o.description(), "a Kubernetes object whose owning SmartVm died", () -> {
                        try {
                            o.delete().run();
                        } catch (KubernetesClientException e) {
                            throw KubeErrors.of("delete " + o.description(), e);
                        }
                    }))
                    .toList();
        } catch (KubernetesClientException e) {
            throw KubeErrors.of("list the SmartVM objects of namespace " + ns, e);
        }
    }

    /**
     * Deletes (or, with {@code dryRun}, lists) the SmartVM objects of the namespace whose owner's
     * Lease ran out: what SmartVm instances that died, here or on another machine, left.
     */
    public List<String> reapOrphans(boolean dryRun) {
        String ns = namespace();
        try {
            return OwnerLease.reapOrphans(client(), ns, dryRun);
        } catch (KubernetesClientException e) {
            throw KubeErrors.of("list the SmartVM objects of namespace " + ns, e);
        }
    }
}

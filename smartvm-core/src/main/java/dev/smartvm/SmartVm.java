package dev.smartvm;

import dev.smartvm.firecracker.Jail;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.internal.firecracker.FirecrackerBackend;
import dev.smartvm.internal.firecracker.Jailer;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.vm.ClonePool;
import dev.smartvm.internal.vm.Closing;
import dev.smartvm.internal.vm.GarbageCollector;
import dev.smartvm.internal.vm.HostChecks;
import dev.smartvm.internal.vm.Homes;
import dev.smartvm.internal.vm.HostnameFollower;
import dev.smartvm.internal.vm.VmBooter;
import dev.smartvm.internal.vm.VmContext;
import dev.smartvm.internal.vm.VmCreation;
import dev.smartvm.internal.vm.VmForks;
import dev.smartvm.internal.vm.VmInfos;
import dev.smartvm.internal.vm.VmLifecycle;
import dev.smartvm.internal.vm.VmRecord;
import dev.smartvm.internal.vm.VmSnapshots;
import dev.smartvm.internal.vm.VmStore;
import dev.smartvm.internal.vm.VmTemplates;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.RestoreState;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The entry point: creates, finds and cleans up microVMs. State lives under
 * {@code $SMARTVM_HOME} (default {@code ~/.local/share/smartvm}). Closing it stops and removes
 * every VM it made that was not detached; a JVM shutdown hook does the same on Ctrl-C, and VMs
 * left by a process that died are reaped when the next SmartVm opens the same home.
 */
public final class SmartVm implements AutoCloseable {
    private final Path home;
    private final VmStore store;
    private final VmContext context;
    private final Consumer<String> notices;
    private final Map<String, MicroVm> owned = new ConcurrentHashMap<>();
    private final Map<String, MicroVm> handles = new ConcurrentHashMap<>();
    private final List<ClonePool> pools;
    private final Thread shutdownHook;
    private final long selfPid = ProcessHandle.current().pid();
    private final Instant selfStart = ProcessHandle.current().info().startInstant().orElse(null);
    private volatile boolean closed;

    private SmartVm(Builder b) {
        this.home = b.home.toAbsolutePath();
        this.notices = b.notices;
        this.context = Homes.open(new Homes.Settings(home, b.imagesDir, b.runner, b.notices, b.downloads, b.resolver,
                b.admission, b.engines, b.reapAtOpen), this::released);
        this.store = context.store();
        List<ClonePool> made = new ArrayList<>();
        try {
            b.pools.forEach((template, size) -> made.add(ClonePool.start(context, template, size, selfPid, selfStart, notices)));
        } catch (RuntimeException e) {
            made.forEach(ClonePool::close);
            throw e;
        }
        this.pools = List.copyOf(made);
        this.shutdownHook = new Thread(this::close, "smartvm-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** What this host (and each engine of {@code backends}: a cluster) has and lacks, and how to fix each; starts no VM. */
    public static List<HostCheck> checkHost(Path home, String... backends) {
        return HostChecks.run(home, List.of(backends));
    }

    public static SmartVm create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Path home() {
        return home;
    }

    /** The images VMs boot, and their caches. */
    public Images images() {
        return context.images();
    }

    /**
     * The default command of {@code spec}'s image (an OCI image's Entrypoint and Cmd; empty for
     * none), fetched or built as a start would; INVALID_ARGUMENT for an engine that pulls its own.
     */
    public List<String> imageCommand(VmSpec spec) {
        ensureOpen();
        return VmCreation.imageCommand(context, spec);
    }

    /**
     * What {@link #start(VmSpec)} would ask of the engine (its command line or API requests),
     * starting and attaching nothing; the VM id shows as {@code planned}, a bridge address as
     * {@code ADDRESS}.
     *
     * @param extensions engine options for the plan alone (the Firecracker release: {@code FirecrackerTarget})
     */
    public BootPlan plan(VmSpec spec, Object... extensions) {
        ensureOpen();
        spec = VmCreation.asRun(context, spec); // a clone's first start
        Backend backend = context.backend(spec.backend());
        backend.options(spec);
        BootRequest request = VmBooter.plan(context, spec, home.resolve("vms").resolve(BootPlan.PLANNED_ID));
        for (Object e : extensions) {
            request = request.with(e);
        }
        return backend.plan(request);
    }

    /** Makes a VM (state CREATED): nothing runs until {@link MicroVm#start()}; a clone's when its spec names a template. */
    public MicroVm create(VmSpec spec) {
        ensureOpen();
        return register(VmCreation.create(context, spec, selfPid, selfStart));
    }

    private MicroVm register(VmLifecycle life) {
        MicroVm vm = new MicroVm(life, context, this);
        owned.put(vm.id(), vm);
        handles.put(vm.id(), vm);
        return vm;
    }

    /** {@link MicroVm#fork}: the children are this SmartVm's VMs. */
    List<MicroVm> fork(VmLifecycle source, int n) {
        ensureOpen();
        return VmForks.fork(context, source, n, selfPid, selfStart).stream().map(this::register).toList();
    }

    /**
     * Creates and starts a VM; if the start fails, nothing is left behind. A clone of a template
     * this SmartVm pools ({@link Builder#pool}) is a pooled one, resumed, when one is ready.
     */
    public MicroVm start(VmSpec spec) {
        ensureOpen();
        for (ClonePool pool : pools) {
            Optional<VmLifecycle> pooled = pool.take(spec);
            if (pooled.isPresent()) {
                return register(pooled.get());
            }
        }
        MicroVm vm = create(spec);
        try {
            return vm.start();
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }

    /** A VM by id or name, whoever made it. */
    public Optional<MicroVm> get(String idOrName) {
        ensureOpen();
        for (MicroVm vm : handles.values()) {
            if (vm.id().equals(idOrName) || vm.name().equals(idOrName)) {
                return Optional.of(vm);
            }
        }
        return store.find(idOrName).map(r -> handles.computeIfAbsent(r.id(), id -> new MicroVm(new VmLifecycle(context, r, false), context, this)));
    }

    public List<VmInfo> list() {
        ensureOpen();
        List<VmInfo> out = new ArrayList<>();
        for (VmRecord r : store.all()) {
            MicroVm vm = handles.get(r.id());
            out.add(vm != null ? vm.info() : VmInfos.info(context, new VmLifecycle(context, r, false).current()));
        }
        return out;
    }

    /** The snapshots of this home ({@link MicroVm#snapshot}), oldest first. */
    public List<SnapshotInfo> snapshots() {
        return context.snapshots().list();
    }

    /** @throws SmartVmException SNAPSHOT_NOT_FOUND */
    public void removeSnapshot(String name) {
        context.snapshots().remove(name);
    }

    /**
     * Starts a new VM ({@code name}, or a generated one) exactly where snapshot {@code snapshot}
     * left its VM (processes, memory, files), on the same engine, engine version, acceleration and spec.
     *
     * @throws SmartVmException SNAPSHOT_NOT_FOUND; UNSUPPORTED for another engine version or acceleration
     */
    public MicroVm restore(String snapshot, String name) {
        ensureOpen();
        SnapshotInfo s = context.snapshots().get(snapshot);
        MicroVm vm = create(VmSnapshots.restoredSpec(context, s, name));
        try {
            return vm.startWith(new RestoreState(s.directory()));
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }

    /**
     * Makes template {@code name}: boots {@code spec} with its memory in a file of the template's,
     * runs each {@code prepare} command with {@code sh -c} in order, and saves it. Its clones
     * ({@link VmSpec.Builder#template}) start where it was saved, in tens of milliseconds, sharing
     * the memory none of them writes. Nothing is left when any step fails.
     *
     * @throws SmartVmException NAME_IN_USE; PREPARE_FAILED when a command exits non-zero;
     *     UNSUPPORTED for an engine without templates (smolvm)
     */
    public TemplateInfo createTemplate(String name, VmSpec spec, List<String> prepare) {
        ensureOpen();
        return VmTemplates.create(context, name, spec, prepare, selfPid, selfStart);
    }

    /** The templates of this home, oldest first. */
    public List<TemplateInfo> templates() {
        return context.templates().list();
    }

    /** @throws SmartVmException TEMPLATE_NOT_FOUND; TEMPLATE_IN_USE while a VM is its clone */
    public void removeTemplate(String name) {
        VmTemplates.remove(context, name);
    }

    public int count() {
        return store.all().size();
    }

    /**
     * Removes what no live owner holds ({@code smartvm gc}, see {@link Leftover.Kind}), or with
     * {@code dryRun} only finds it; one that could not be removed says why ({@link Leftover#failure()}).
     */
    public List<Leftover> collectGarbage(boolean dryRun) {
        ensureOpen();
        return GarbageCollector.collect(context, dryRun, notices);
    }

    private void released(String vmId) {
        owned.remove(vmId);
        handles.remove(vmId);
    }

    private void ensureOpen() {
        if (closed) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "this SmartVm is closed");
        }
    }

    /**
     * Keeps the hostnames of the egress rules of a running VM no process holds ({@code smartvm
     * create}) resolved on their TTL until it stops or is removed; at once for one without any.
     */
    public void followHostnames(String idOrName) throws InterruptedException {
        ensureOpen();
        HostnameFollower.follow(context, idOrName, () -> closed);
    }

    /** Stops and removes every VM this instance made (unless detached), then closes its backends. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        pools.forEach(ClonePool::close);
        Closing.closeAll(owned.values(), notices);
        List.copyOf(handles.values()).forEach(MicroVm::close);
        Closing.closeAll(context.backends().values(), notices); // their connections, leases, threads
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down
            }
        }
    }

    /** Configures a {@link SmartVm}. */
    public static final class Builder {
        private Path home = defaultHome();
        private Path imagesDir = defaultImagesDir();
        private final CommandRunner runner = CommandRunner.system();
        private Consumer<String> notices = s -> { };
        private final List<Function<Path, Backend>> engines = new ArrayList<>();
        private DownloadListener downloads = DownloadListener.NONE;
        private NameResolver resolver = NameResolver.system();
        private AdmissionPolicy admission;
        private final Map<String, Integer> pools = new java.util.LinkedHashMap<>();
        private boolean reapAtOpen = true;

        /** {@code smartvm.home} (system property), else $SMARTVM_HOME, else ~/.local/share/smartvm. */
        public static Path defaultHome() {
            return Homes.setting("smartvm.home", "SMARTVM_HOME").map(Path::of)
                    .orElse(Path.of(System.getProperty("user.home"), ".local", "share", "smartvm"));
        }

        /** {@code smartvm.images} (system property), else $SMARTVM_IMAGES, else null for {@code home/images}. */
        public static Path defaultImagesDir() {
            return Homes.setting("smartvm.images", "SMARTVM_IMAGES").map(Path::of).orElse(null);
        }

        public Builder home(Path dir) {
            this.home = dir;
            return this;
        }

        /** Where images are cached (default {@code home/images}); can be shared between homes. */
        public Builder imagesDir(Path dir) {
            this.imagesDir = dir;
            return this;
        }

        /** Receives one-line notices (image builds, acceleration fallback) for a human. */
        public Builder notices(Consumer<String> listener) {
            this.notices = listener;
            return this;
        }

        /** Told how each download (an OCI image's blobs, a base image's files) goes: a progress bar. */
        public Builder downloads(DownloadListener listener) {
            this.downloads = listener;
            return this;
        }

        /**
         * Resolves the hostnames of egress rules, when a VM is made and again when their TTL ends
         * (default: the host's hosts file and DNS servers).
         */
        public Builder resolver(NameResolver nameResolver) {
            this.resolver = nameResolver;
            return this;
        }

        /**
         * How much of the host running VMs may commit before a start is refused with
         * HOST_OVERCOMMITTED (default: {@link AdmissionPolicy#fromEnvironment()}).
         */
        public Builder admission(AdmissionPolicy policy) {
            this.admission = policy;
            return this;
        }

        /**
         * Runs the {@code firecracker} backend's VMs under the jailer ({@code jail}, or null), each
         * VM's configuration changed by {@code customizer} (or null) before it is validated and
         * sent: how a balloon, MMDS, an entropy device or rate limiters are added to every VM.
         */
        public Builder firecracker(Jail jail, UnaryOperator<VmConfig> customizer) {
            engines.add(home -> { // under the home the SmartVm gets, whenever this is called
                FirecrackerBackend fc = FirecrackerBackend.fromEnvironment(home.resolve("firecracker"), m -> notices.accept(m));
                fc = jail == null ? fc : fc.jailed(Jailer.of(jail));
                return customizer == null ? fc : fc.withConfig(customizer);
            });
            return this;
        }

        /** Uses {@code backend} for VMs whose spec names it, instead of the default one of that name. */
        public Builder backend(Backend backend) {
            engines.add(home -> backend);
            return this;
        }

        /**
         * Keeps {@code size} clones of {@code template} restored, warmed and paused: a start of a
         * clone of it (without a network) gets one in milliseconds, and another is made in the
         * background. Pooled clones are this SmartVm's VMs (listed, removed on close).
         */
        public Builder pool(String template, int size) {
            pools.put(template, size);
            return this;
        }

        /** Whether opening removes what dead processes left (default), or leaves it for {@link #collectGarbage} to report. */
        public Builder reapAtOpen(boolean reap) {
            this.reapAtOpen = reap;
            return this;
        }

        public SmartVm build() {
            if (admission == null) {
                admission = AdmissionPolicy.fromEnvironment();
            }
            return new SmartVm(this);
        }
    }
}

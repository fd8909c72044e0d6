package dev.smartvm.internal.firecracker;

import dev.smartvm.BootPlan;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import dev.smartvm.firecracker.BootSource;
import dev.smartvm.firecracker.Drive;
import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerOptions;
import dev.smartvm.firecracker.FirecrackerTarget;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.firecracker.Logger;
import dev.smartvm.firecracker.MachineConfig;
import dev.smartvm.firecracker.Metrics;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.firecracker.Vsock;
import dev.smartvm.internal.firecracker.ConfigMerge.UserBoot;
import dev.smartvm.internal.host.Kvm;
import dev.smartvm.internal.host.VmmLauncher;
import dev.smartvm.internal.image.Vmlinux;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.TextFiles;
import dev.smartvm.internal.io.UnixSockets;
import dev.smartvm.spi.AttachSpec;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.Capability;
import dev.smartvm.spi.TemplateMemory;
import dev.smartvm.spi.VmmProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Runs VMs with Firecracker, driven over its API socket as the official spec says. Fields are
 * gated by the version Firecracker reports (GET /version), so a field newer than the binary is
 * refused here instead of by Firecracker. Optionally jailed (see {@link Jailer}).
 */
public final class FirecrackerBackend implements Backend {
    static final String LOG_FILE = "firecracker.log";
    static final String METRICS_FILE = "metrics.json";
    /** The VM's writable root disk, a private copy, under this name in every VM (snapshots record it). */
    static final String ROOT_DISK = "root.ext4";
    /** The id of the VM's network interface. */
    static final String NIC_ID = "eth0";
    private static final Duration API_TIMEOUT = Duration.ofSeconds(10);
    private static final Pattern INSTANCE_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");

    private final Supplier<FirecrackerRelease.Binaries> binaries;
    private final Jailer jailer;
    private final Supplier<FieldSupport> support;
    private final UnaryOperator<VmConfig> customizer;
    private final Consumer<String> notices;
    private final Set<Path> toldAboutVsock = ConcurrentHashMap.newKeySet();
    private volatile String version;

    /**
     * @param binaries finds (or fetches) firecracker and jailer; asked at each launch, so that a
     *     missing binary fails the launch, not the construction
     * @param jailer the jail to run in, or null to run Firecracker directly
     */
    public FirecrackerBackend(Supplier<FirecrackerRelease.Binaries> binaries, Jailer jailer, FieldSupport support) {
        this(binaries, jailer, () -> support, UnaryOperator.identity(), s -> { });
    }

    private FirecrackerBackend(Supplier<FirecrackerRelease.Binaries> binaries, Jailer jailer, Supplier<FieldSupport> support,
            UnaryOperator<VmConfig> customizer, Consumer<String> notices) {
        this.binaries = binaries;
        this.jailer = jailer;
        this.support = support;
        this.customizer = customizer;
        this.notices = notices;
    }

    /**
     * The same backend, with {@code customizer} applied to each VM's configuration before it is
     * validated and sent: how a balloon, MMDS, an entropy device, rate limiters or another log
     * level are added.
     */
    public FirecrackerBackend withConfig(UnaryOperator<VmConfig> customizer) {
        return new FirecrackerBackend(binaries, jailer, support, this.customizer.andThen(customizer)::apply, notices);
    }

    /** The same backend, telling {@code listener} what it changes of a user's config file (its vsock). */
    public FirecrackerBackend withNotices(Consumer<String> listener) {
        return new FirecrackerBackend(binaries, jailer, support, customizer, listener);
    }

    /** The same backend, running Firecracker under {@code jail}. */
    public FirecrackerBackend jailed(Jailer jail) {
        return new FirecrackerBackend(binaries, jail, support, customizer, notices);
    }

    /**
     * $SMARTVM_FIRECRACKER (and $SMARTVM_JAILER), else {@code firecracker} on the PATH, else the
     * release $SMARTVM_FIRECRACKER_VERSION (default {@value FirecrackerRelease#DEFAULT_VERSION})
     * fetched from $SMARTVM_FIRECRACKER_RELEASES (default GitHub) into {@code cacheDir}.
     */
    public static FirecrackerBackend fromEnvironment(Path cacheDir, Consumer<String> notices) {
        return new FirecrackerBackend(() -> {
            Kvm.require("Firecracker");
            return FirecrackerBinaries.locate(cacheDir);
        }, null, BundledFieldSupport::get, UnaryOperator.identity(), notices);
    }

    /** The bundled field table, read on first use: a QEMU-only run never pays for it. */
    private static final class BundledFieldSupport {
        private static final FieldSupport TABLE = FieldSupport.load();

        static FieldSupport get() {
            return TABLE;
        }
    }

    @Override
    public String name() {
        return "firecracker";
    }

    /**
     * Snapshots are Firecracker's full snapshots; templates are snapshots whose memory file
     * clones load privately ({@link FirecrackerSnapshots}).
     */
    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.KVM_ONLY, Capability.PAUSE, Capability.GUEST_USAGE, Capability.SNAPSHOT, Capability.TEMPLATES, Capability.FORK);
    }

    /** {@code firecracker --version}'s first line, asked once: a snapshot loads only into the same release. */
    @Override
    public String version() {
        String v = version;
        if (v == null) {
            v = FirecrackerBinaries.versionLine(binaries.get().firecracker());
            version = v;
        }
        return v;
    }

    /** Its one option: a Firecracker config file, read here so that a bad one fails before anything exists. */
    @Override
    public List<Object> options(VmSpec spec) {
        if (spec.firecrackerConfig() == null) {
            return List.of();
        }
        checkConfigFile(spec.firecrackerConfig());
        return List.of(new FirecrackerOptions(spec.firecrackerConfig()));
    }

    /** The host files one VM's Firecracker opens, where they will be once staged; rootDisk null when the image's is not used. */
    private record Staging(Path kernel, Path initrd, Path rootDisk, Path log, Path metrics) {
    }

    /** Where each file goes: the VM directory, or the chroot under the jailer. Nothing is touched. */
    private Staging staging(BootRequest spec, FirecrackerLayout layout, UserBoot user) {
        Path kernel = user.kernel() != null ? user.kernel() : imageKernel(spec);
        boolean disk = spec.image().rootDisk() != null && user.root() == null;
        if (jailer == null) {
            Path dir = spec.vmDir();
            return new Staging(kernel, spec.image().initrd(), disk ? dir.resolve(ROOT_DISK) : null, dir.resolve(LOG_FILE),
                    dir.resolve(METRICS_FILE));
        }
        Path root = layout.chroot();
        return new Staging(root.resolve("vmlinux"), root.resolve("initrd"), disk ? root.resolve(ROOT_DISK) : null,
                root.resolve(LOG_FILE), root.resolve(METRICS_FILE));
    }

    /** The image's kernel as the ELF vmlinux Firecracker loads (made beside it at launch). */
    private static Path imageKernel(BootRequest spec) {
        Path k = spec.image().kernel();
        return Vmlinux.isElf(k) ? k : k.resolveSibling("vmlinux");
    }

    /**
     * The configuration a launch sends: the kernel (the image's, as an ELF vmlinux, or the config
     * file's) with SmartVM's initramfs, the agent reached over vsock, logs and metrics beside the
     * VM, the root (the config file's root drive, else a private copy of the image's disk:
     * Firecracker has no copy-on-write drives); then the config file's objects
     * ({@link ConfigMerge}) and the customizer's changes.
     */
    private Configured configFor(BootRequest spec, FirecrackerLayout paths) {
        Path extras = spec.extension(FirecrackerOptions.class).map(FirecrackerOptions::configFile).orElse(null);
        FirecrackerConfigFile.Contents file = extras == null ? null : FirecrackerConfigFile.load(extras);
        UserBoot user = file == null ? UserBoot.NONE : UserBoot.of(extras, file.config());
        Staging files = staging(spec, paths, user);
        String agentArgs = "rdinit=/init smartvm.vmid=" + spec.vmId() + " smartvm.transport=vsock:" + FirecrackerProcess.AGENT_PORT
                + user.rootArgs(spec.image().rootKernelArgs()) + spec.nicKernelArgs();
        List<Drive> drives = new ArrayList<>();
        if (files.rootDisk() != null) {
            drives.add(Drive.of("root", paths.vmmPath(files.rootDisk()), true, spec.image().rootReadOnly()));
        }
        VmConfig own = new VmConfig(
                new BootSource(paths.vmmPath(files.kernel()), paths.vmmPath(files.initrd()), user.bootArgs(agentArgs)),
                MachineConfig.of(spec.cpus(), spec.memoryMib()),
                drives, spec.nic() == null ? List.of()
                        : List.of(new dev.smartvm.firecracker.NetworkInterface(NIC_ID, spec.nic().tap(), spec.nic().mac(), null, null, null)),
                new Vsock(3, paths.vmmPath(paths.vsockSocket())),
                null, null,
                new Logger("Info", paths.vmmPath(files.log()), true, null, null),
                new Metrics(paths.vmmPath(files.metrics())),
                null, null);
        if (file == null) {
            return new Configured(customizer.apply(own), ConfigAsGiven.NONE, files, user, List.of());
        }
        if (jailer == null) {
            return new Configured(customizer.apply(ConfigMerge.merge(own, file.config())), file.asGiven(), files, user, List.of());
        }
        return new Configured(customizer.apply(ConfigMerge.merge(own, Jailer.inJail(file.config()))), file.asGiven().inJail(),
                files, user, Jailer.filesOf(file.config(), file.asGiven())); // their files, as linked into the jail
    }

    /** What a boot sends: the configuration, the objects of a config file sent as given, and where its files go. */
    private record Configured(VmConfig config, ConfigAsGiven asGiven, Staging files, UserBoot user, List<Jailer.JailedFile> toJail) {
        List<ApiRequest> requests(FirecrackerVersion version, FieldSupport support) {
            return FirecrackerPlan.of(config, asGiven, null, version, support);
        }
    }

    /** Reads a user's Firecracker config as a launch will, to refuse a bad one early; says once per file what it takes over. */
    private void checkConfigFile(Path file) {
        FirecrackerConfigFile.Contents contents = FirecrackerConfigFile.load(file);
        UserBoot.of(file, contents.config());
        if (contents.config().vsock() != null && toldAboutVsock.add(file)) {
            notices.accept(ConfigMerge.vsockNotice(file, contents.config().vsock()));
        }
    }

    private FirecrackerLayout layout(BootRequest spec, Path firecracker) {
        return jailer == null ? FirecrackerLayout.plain(spec.vmDir()) : jailer.layout(firecracker, spec.vmId());
    }

    /**
     * The requests a launch of {@code spec} would send to Firecracker {@code version}, validated,
     * without starting or writing anything ({@code smartvm plan}). Under the jailer the
     * Firecracker binary is assumed to be named {@code firecracker}.
     */
    public List<ApiRequest> plan(BootRequest spec, FirecrackerVersion version) {
        FirecrackerLayout layout = layout(spec, Path.of("firecracker"));
        return configFor(spec, layout).requests(version, support.get());
    }

    /**
     * The command line and the requests a launch would send, for the release of the request's
     * {@link FirecrackerTarget}, else the installed one (else the one SmartVM fetches).
     */
    @Override
    public BootPlan plan(BootRequest request) {
        FirecrackerVersion version = request.extension(FirecrackerTarget.class).map(FirecrackerTarget::version)
                .orElseGet(FirecrackerBinaries::installedVersion);
        List<BootPlan.ApiCall> calls = new ArrayList<>();
        for (ApiRequest r : plan(request, version)) {
            calls.add(new BootPlan.ApiCall(r.method(), r.path(), r.body() == null ? null : Json.text(r.body())));
        }
        return new BootPlan(name(), VmmLauncher.inOwnSession(argv(request, Path.of("firecracker"))), calls);
    }

    /** Boots, or loads the state a {@code RestoreState} or {@code TemplateClone} names ({@link FirecrackerSnapshots#load}). */
    @Override
    public VmmProcess launch(BootRequest spec) {
        return start(spec, FirecrackerSnapshots.load(spec).orElse(null));
    }

    /** Moves the saved state into the template: Firecracker's memory file needs no VMM to become one. */
    @Override
    public void templateFromState(BootRequest request, Path templateDir) {
        FirecrackerSnapshots.templateFromState(request, templateDir);
    }

    /**
     * Starts a fresh Firecracker and loads a snapshot into it instead of booting (a snapshot can
     * only be loaded before anything else is configured).
     */
    public FirecrackerProcess restore(BootRequest spec, SnapshotLoad load) {
        return start(spec, load);
    }

    private FirecrackerProcess start(BootRequest spec, SnapshotLoad load) {
        if (!INSTANCE_ID.matcher(spec.vmId()).matches()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a Firecracker instance id has 1 to 64 letters, digits or '-'; found '"
                    + spec.vmId() + "'");
        }
        if (spec.nic() != null && spec.nic().userMode()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "Firecracker has no user-mode network: use the bridge"
                    + " (--net-mode bridge, as root)");
        }
        FirecrackerRelease.Binaries bin = binaries.get();
        Path dir = spec.vmDir();
        FirecrackerLayout layout = layout(spec, bin.firecracker());
        VmmLauncher.checkSocketPaths("SMARTVM_HOME (or the jail's chroot base)", layout.apiSocket(), layout.vsockSocket());
        if (jailer != null && !Files.isExecutable(jailer.jailerBinary())) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "the jailer " + jailer.jailerBinary() + " is not executable");
        }
        Runnable cleanUp = () -> {
            layout.removeFiles();
            if (jailer != null) {
                jailer.removeCgroup(bin.firecracker(), spec.vmId());
            }
        };
        Process p = null;
        try {
            Configured boot = load == null ? prepare(spec, layout) : null;
            VmConfig config = boot != null ? boot.config() : FirecrackerSnapshots.prepareLoad(spec, layout, load, jailer);
            if (load != null && jailer != null) {
                load = load.staged(jailer, layout.chroot());
            }
            layout.removeFiles(); // a VMM that exited on its own leaves its sockets: binding again would fail
            p = spawn(spec, bin, dir);
            Instant started = p.info().startInstant().orElse(Instant.now());
            layout.save(dir);
            FirecrackerProcess vmm = new FirecrackerProcess(p.pid(), started, dir, p, layout, cleanUp,
                    spec.extension(TemplateMemory.class).map(TemplateMemory::file).orElse(null), boot == null ? null : boot.user().kernel());
            Process child = p;
            try {
                UnixSockets.connect(layout.apiSocket(), System.nanoTime() + API_TIMEOUT.toNanos(), child::isAlive).close();
            } catch (IOException e) {
                throw new SmartVmException(ErrorCode.BOOT_FAILED, "Firecracker did not open its API socket "
                        + layout.apiSocket() + ": " + e.getMessage(), e);
            }
            FirecrackerApiClient api = vmm.api();
            FirecrackerVersion version = FirecrackerVersion.parse(api.send("GET", "/version", null).json()
                    .path("firecracker_version").asText());
            List<ApiRequest> requests = boot != null ? boot.requests(version, support.get())
                    : FirecrackerSnapshots.loadRequests(config, load, layout, version, support.get());
            for (ApiRequest r : requests) {
                api.send(r);
            }
            return vmm;
        } catch (RuntimeException e) {
            String output = p == null ? "" : stop(p, dir);
            cleanUp.run();
            if (e instanceof SmartVmException s && (p == null || s.code() == ErrorCode.INVALID_ARGUMENT)) {
                throw s;
            }
            throw new SmartVmException(ErrorCode.BOOT_FAILED, "Firecracker did not start the VM: " + e.getMessage()
                    + (output.isEmpty() ? "" : "\n" + output), e);
        }
    }

    /** Makes the files Firecracker opens: the vmlinux, the root disk copy, the log and metrics files. */
    private Configured prepare(BootRequest spec, FirecrackerLayout layout) {
        Configured config = configFor(spec, layout);
        config.config().validate().orThrow(); // what no version allows fails before anything is written or started
        Path kernel = config.user().kernel() != null ? config.user().kernel()
                : Vmlinux.of(spec.image().kernel(), spec.image().kernel().resolveSibling("vmlinux"));
        if (jailer != null) {
            jailer.stage(layout.chroot(), kernel, "vmlinux");
            jailer.stage(layout.chroot(), spec.image().initrd(), "initrd");
            config.toJail().forEach(f -> jailer.link(layout.chroot(), f));
        }
        layout.stageOwnFiles(spec.vmDir(), jailer, config.files().rootDisk() == null ? null : spec.image().rootDisk());
        return config;
    }

    private Process spawn(BootRequest spec, FirecrackerRelease.Binaries bin, Path dir) {
        // Firecracker writes the guest's serial console to its stdout.
        return VmmLauncher.launch(argv(spec, bin.firecracker()), dir, dir.resolve("firecracker.argv"), dir.resolve("console.log"));
    }

    private List<String> argv(BootRequest spec, Path firecracker) {
        return jailer != null ? jailer.argv(firecracker, spec.vmId())
                : List.of(firecracker.toString(), "--api-sock", FirecrackerLayout.plain(spec.vmDir()).apiSocket().toString(),
                        "--id", spec.vmId());
    }

    private static String stop(Process p, Path dir) {
        p.destroyForcibly();
        try {
            p.waitFor();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        return String.join("\n", TextFiles.tail(dir.resolve("console.log"), 15)).strip();
    }

    @Override
    public VmmProcess attach(AttachSpec spec) {
        FirecrackerLayout layout = FirecrackerLayout.load(spec.vmDir());
        return new FirecrackerProcess(spec.pid(), spec.startedAt(), spec.vmDir(), null, layout, layout::removeFiles, null);
    }
}

package dev.smartvm.internal.vm;

import dev.smartvm.Acceleration;
import dev.smartvm.BootPlan;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import dev.smartvm.VmState;
import dev.smartvm.internal.image.ExecDefaults;
import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.net.EgressPolicy;
import dev.smartvm.internal.net.HostNetwork;
import dev.smartvm.internal.net.HostnamePins;
import dev.smartvm.internal.net.NetworkManager;
import dev.smartvm.internal.net.PortMapping;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.Capability;
import dev.smartvm.spi.EngineSpec;
import dev.smartvm.spi.Guest;
import dev.smartvm.spi.NicSpec;
import dev.smartvm.spi.RestoreState;
import dev.smartvm.spi.TemplateClone;
import dev.smartvm.spi.VmmProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The boot of one VM, as named steps each with its undo ({@link Boot}): resolve image, decide
 * acceleration, plan network, admit, attach network, launch VMM, connect guest, watch. A plan
 * runs the first three, and builds the same boot request, without starting or attaching anything.
 */
public final class VmBooter {
    static final String RESOLVE_IMAGE = "resolve image";
    static final String DECIDE_ACCELERATION = "decide acceleration";
    static final String PLAN_NETWORK = "plan network";
    static final String ADMIT = "admit";
    static final String ATTACH_NETWORK = "attach network";
    static final String LAUNCH_VMM = "launch VMM";
    static final String CONNECT_GUEST = "connect guest";
    static final String WATCH = "watch";

    /** The address QEMU's user network gives the guest. */
    static final String USER_MODE_ADDRESS = "10.0.2.15";

    /**
     * What a boot reports as it goes, so that the VM's record names what exists at each moment:
     * a process that dies mid-boot leaves nothing that no record names.
     */
    interface Progress {
        /** Before anything is attached: a reaper that finds the boot abandoned knows what to look for. */
        void networkPlanned(NetworkSpec.Mode mode);

        void networkAttached(HostNetwork.Attachment attachment, HostnamePins pins);

        void networkDetached();

        void vmmLaunched(VmmProcess vmm, Acceleration acceleration, ExecDefaults defaults);
    }

    record Booted(VmmProcess vmm, Guest guest) {
    }

    /** What the first three steps decide. */
    private record Decided(Backend backend, ImageBundle image, Acceleration acceleration, NetworkSpec.Mode mode) {
    }

    private final VmContext context;
    private final VmRecord record;
    private final Path dir;

    VmBooter(VmContext context, VmRecord record, Path dir) {
        this.context = context;
        this.record = record;
        this.dir = dir;
    }

    /** The boot request a start of a VM of {@code spec} would send, its id {@link BootPlan#PLANNED_ID}. */
    public static BootRequest plan(VmContext context, VmSpec spec, Path dir) {
        VmRecord planned = new VmRecord(BootPlan.PLANNED_ID, spec.name() == null ? BootPlan.PLANNED_ID : spec.name(), spec,
                VmState.CREATED, spec.acceleration(), -1, null, Instant.now(), 0, null, null, null, null, null);
        return new VmBooter(context, planned, dir).plan();
    }

    /** The boot request a start would send, the network as it would be attached (the address leased at start). */
    BootRequest plan() {
        try (Boot boot = new Boot()) {
            Decided d = decide(boot);
            NicSpec nic = switch (d.mode() == null ? NetworkSpec.Mode.AUTO : d.mode()) {
                case USER -> userModeNic();
                case BRIDGE -> {
                    HostNetwork.Attachment planned = context.network().plan(record.id());
                    yield new NicSpec(planned.tap(), planned.mac(), planned.bootArgs());
                }
                case AUTO -> null; // no network
            };
            boot.commit();
            BootRequest request = request(d, nic);
            return VmTemplates.firstStart(context, record, VmState.CREATED).map(request::with).orElse(request);
        }
    }

    /** Boots the VM; a failed step has undone the ones before it, and is named by the {@link Boot.StepFailed}. */
    Booted boot(Progress progress, Runnable onVmmExit, List<Object> extensions) {
        try (Boot boot = new Boot()) {
            Decided d = decide(boot);
            progress.networkPlanned(d.mode());
            VmSpec spec = record.spec();
            boolean ownsNetwork = d.backend().has(Capability.OWNS_IMAGES_AND_NETWORK);
            // Held from the count of what runs until this VMM runs (labelled) too: one place, one taker.
            LockFile admitted = ownsNetwork ? null : boot.step(ADMIT,
                    () -> context.admission().admit(record.name(), spec.cpus(), spec.memoryMib()));
            if (admitted != null) {
                boot.onUndo(ADMIT, admitted::close);
            }
            NicSpec nic = boot.step(ATTACH_NETWORK, () -> ownsNetwork ? null : attach(boot, d.mode(), progress));
            BootRequest request = request(d, nic);
            for (Object e : extensions) {
                request = request.with(e);
            }
            BootRequest launching = request;
            VmmProcess vmm = boot.step(LAUNCH_VMM, () -> d.backend().launch(launching));
            boot.onUndo(LAUNCH_VMM, () -> vmm.terminate(Duration.ofSeconds(2)));
            if (admitted != null) {
                admitted.close();
            }
            progress.vmmLaunched(vmm, d.acceleration(), d.image() == null ? ExecDefaults.NONE : d.image().defaults());
            Guest guest = boot.step(CONNECT_GUEST, () -> connect(vmm, spec.bootTimeout()));
            // a restored guest (a clone) booted as another VM, whose MAC and address its network device still has
            boolean restored = launching.extension(RestoreState.class).isPresent()
                    || launching.extension(TemplateClone.class).isPresent();
            guest.identify(record.id(), GuestLink.hostname(record.name()), restored ? nic : null);
            boot.onUndo(CONNECT_GUEST, guest::close);
            boot.step(WATCH, () -> VmWatcher.watch(vmm, dir.resolve("console.log"), record.id(), onVmmExit));
            boot.commit();
            return new Booted(vmm, guest);
        }
    }

    /** The guest's agent; a failure to reach it says what the engine knows of why (a kernel without what the agent needs). */
    private Guest connect(VmmProcess vmm, Duration timeout) {
        try {
            return GuestLink.connect(vmm, timeout, record.name());
        } catch (SmartVmException e) {
            Optional<String> hint = vmm.agentHint();
            if (hint.isEmpty()) {
                throw e;
            }
            throw new SmartVmException(e.code(), e.getMessage() + "\nhint: " + hint.get(), e);
        }
    }

    private Decided decide(Boot boot) {
        VmSpec spec = record.spec();
        Backend backend = context.backend(spec.backend());
        boolean ownsImages = backend.has(Capability.OWNS_IMAGES_AND_NETWORK);
        ImageBundle image = boot.step(RESOLVE_IMAGE, () -> ownsImages ? null : context.images().resolve(spec.image()));
        Acceleration accel = boot.step(DECIDE_ACCELERATION, () -> context.acceleration(backend, spec.acceleration()));
        NetworkSpec.Mode mode = boot.step(PLAN_NETWORK, () -> ownsImages ? null
                : HostNetwork.decideMode(spec.network(), backend.name(), backend.has(Capability.USER_MODE_NETWORK)));
        return new Decided(backend, image, accel, mode);
    }

    private BootRequest request(Decided d, NicSpec nic) {
        VmSpec spec = record.spec();
        NetworkSpec net = spec.network();
        EngineSpec engine = d.backend().has(Capability.OWNS_IMAGES_AND_NETWORK)
                ? new EngineSpec(spec.image(), net.enabled(), net.allow(), net.deny(), net.publish()) : null;
        return new BootRequest(record.id(), dir, d.image() == null ? null : d.image().boot(), spec.cpus(), spec.memoryMib(),
                d.acceleration(), nic, engine, d.backend().options(spec));
    }

    private NicSpec userModeNic() {
        return new NicSpec(null, NetworkManager.generateMac(record.id(), "eth0"),
                "ip=" + USER_MODE_ADDRESS + "::10.0.2.2:255.255.255.0::eth0:off",
                publishedPorts().stream().map(PortMapping::forward).toList());
    }

    private List<PortMapping> publishedPorts() {
        return record.spec().network().publish().stream().map(PortMapping::parse).toList();
    }

    /** The bridge: a TAP, an address, nft rules, published ports, and the hostnames of its rules kept resolved. */
    private NicSpec attach(Boot boot, NetworkSpec.Mode mode, Progress progress) {
        if (mode == null) {
            return null;
        }
        if (mode == NetworkSpec.Mode.USER) {
            return userModeNic();
        }
        NetworkSpec net = record.spec().network();
        EgressPolicy policy = EgressPolicy.parse(net.allow(), net.deny(), context.resolver());
        HostNetwork.Attachment attachment = context.network().attach(record.id(), dir, policy, publishedPorts());
        HostnamePins[] pins = new HostnamePins[1];
        boot.onUndo(ATTACH_NETWORK, () -> {
            if (pins[0] != null) {
                pins[0].close();
            }
            context.network().detach(record.id(), attachment.tap(), attachment.ip());
            progress.networkDetached();
        });
        pins[0] = policy.hasHostnames() ? context.pinHostnames(record.id(), policy) : null;
        progress.networkAttached(attachment, pins[0]);
        return new NicSpec(attachment.tap(), attachment.mac(), attachment.bootArgs());
    }
}

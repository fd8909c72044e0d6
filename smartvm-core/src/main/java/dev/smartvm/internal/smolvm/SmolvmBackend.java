package dev.smartvm.internal.smolvm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.image.OciReference;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.Sweep;
import dev.smartvm.internal.net.EgressRule;
import dev.smartvm.internal.net.PortMapping;
import dev.smartvm.spi.AttachSpec;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.Capability;
import dev.smartvm.spi.EngineSpec;
import dev.smartvm.spi.ForkOf;
import dev.smartvm.spi.VmmProcess;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * VMs on smolvm (libkrun), driven through its CLI: a SmartVM VM is the smolvm machine
 * {@code smartvm-<id>}. smolvm pulls the image (an OCI reference) in the guest and runs its own
 * agent, so commands and files go through {@code machine exec} and {@code machine cp}; egress
 * allow-lists become {@code --allow-cidr} / {@code --allow-host}. A machine without a network
 * cannot pull (smolvm refuses {@code create -I} without one since 1.7.3): its image is packed on
 * the host first ({@code pack create}, kept in the home's {@code smolvm-packs}) and the machine
 * made {@code --from} the pack. The machine is created on the
 * first start, started again after a stop (its disk kept), and deleted when the VM is removed.
 * A VM is forked with smolvm's {@code machine fork} ({@link SmolvmForks}).
 */
public final class SmolvmBackend implements Backend {
    public static final String NAME = "smolvm";
    private final Supplier<SmolvmCli> cli;
    private volatile SmolvmCli located;

    private SmolvmBackend(Supplier<SmolvmCli> cli) {
        this.cli = cli;
    }

    /** The smolvm at $SMARTVM_SMOLVM or on PATH, looked for when first needed. */
    public static SmolvmBackend fromEnvironment() {
        return new SmolvmBackend(() -> SmolvmCli.locate(System.getenv("SMARTVM_SMOLVM"), CommandRunner.system()));
    }

    /** Half-made packs of the VMs of {@code home} whose maker died ({@code smartvm gc}). */
    public static void sweepPartialPacks(Path home, Sweep sweep) {
        SmolvmPacks.sweepPartials(home.resolve(SmolvmPacks.DIR), sweep);
    }

    public static SmolvmBackend using(SmolvmCli cli) {
        return new SmolvmBackend(() -> cli);
    }

    private SmolvmCli cli() {
        SmolvmCli c = located;
        if (c == null) {
            c = cli.get();
            located = c;
        }
        return c;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.KVM_ONLY, Capability.OWNS_IMAGES_AND_NETWORK, Capability.FORK);
    }

    static String machineName(String vmId) {
        return "smartvm-" + vmId;
    }

    /**
     * Creates the machine at its first start and starts it, forkable where this smolvm forks
     * (so that any VM can be forked) unless it is a fork itself; or makes it a fork of another
     * machine ({@link ForkOf}).
     */
    @Override
    public VmmProcess launch(BootRequest spec) {
        String name = machineName(spec.vmId());
        Optional<ForkOf> fork = spec.extension(ForkOf.class);
        if (fork.isPresent()) {
            return fork(spec, machineName(fork.get().sourceVmId()), name);
        }
        EngineSpec e = spec.engine();
        MachineSpec machine = machine(name, spec, e); // what smolvm cannot do is refused before anything exists
        SmolvmCli c = cli();
        boolean created = false;
        try {
            if (!exists(c, name)) {
                c.create(machine.net() ? machine : SmolvmPacks.packed(c, machine, spec.vmDir()));
                created = true;
            }
            try {
                c.start(name, !SmolvmForks.isFork(spec.vmDir()));
            } catch (SmolvmException slow) {
                // start waits 30 s for the guest agent, while the first start may still be pulling the
                // image in the guest: a machine that runs is waited for (up to the boot timeout) instead
                if (!c.status(name).running()) {
                    throw slow;
                }
            }
            return new SmolvmMachine(c, name, spec.vmDir(), c.status(name).pid(), null);
        } catch (SmolvmException failed) {
            if (created) {
                discard(name);
            }
            throw new SmartVmException(ErrorCode.BOOT_FAILED, "smolvm could not start machine '" + name + "': "
                    + failed.stderr().strip(), failed);
        }
    }

    private VmmProcess fork(BootRequest spec, String golden, String name) {
        SmolvmCli c = cli();
        try {
            SmolvmForks.fork(c, golden, name, spec.vmDir());
            return new SmolvmMachine(c, name, spec.vmDir(), c.status(name).pid(), null);
        } catch (SmolvmException failed) {
            discard(name);
            throw new SmartVmException(ErrorCode.BOOT_FAILED, "smolvm could not fork machine '" + golden + "' into '" + name
                    + "': " + failed.stderr().strip(), failed);
        }
    }

    /** The machine smolvm is to create; egress rules and published ports smolvm has no form for are refused. */
    static MachineSpec machine(String name, BootRequest spec, EngineSpec e) {
        if (e == null || e.imageRef().equals("default") || OciReference.tryParse(e.imageRef()).isEmpty()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the smolvm backend boots OCI images (--image alpine:3.20);"
                    + " found '" + (e == null ? null : e.imageRef()) + "', which smolvm cannot pull");
        }
        MachineSpec.Builder b = MachineSpec.builder(name).image(e.imageRef()).cpus(spec.cpus()).memoryMib(spec.memoryMib())
                .net(e.network());
        if (!e.deny().isEmpty()) {
            throw unsupported("deny rules (smolvm takes allow-lists only: --allow-cidr and --allow-host)");
        }
        for (String text : e.allow()) {
            EgressRule r = EgressRule.parseUnresolved(text);
            if (r.port() != 0) {
                throw unsupported("ports in egress rules ('" + text + "': smolvm allows hosts and networks, every port)");
            }
            if (r.host() != null) {
                b.allowHost(r.host());
            } else {
                b.allowCidr(r.cidrs().get(0));
            }
        }
        for (String text : e.publish()) {
            PortMapping p = PortMapping.parse(text);
            if (!p.loopback() || !p.address().equals("127.0.0.1") || !p.protocol().equals("tcp")) {
                throw unsupported("publishing '" + text + "' (smolvm publishes TCP ports as HOST:GUEST only)");
            }
            b.port(p.hostPort() + ":" + p.guestPort());
        }
        return b.build();
    }

    private static SmartVmException unsupported(String what) {
        return new SmartVmException(ErrorCode.UNSUPPORTED, "the smolvm backend cannot do " + what);
    }

    @Override
    public VmmProcess attach(AttachSpec spec) {
        return new SmolvmMachine(cli(), machineName(spec.vmDir().getFileName().toString()), spec.vmDir(), spec.pid(),
                spec.startedAt());
    }

    /**
     * Deletes the VM's machine; a golden's forks first: they run on its disk, and smolvm's
     * {@code delete -f} of a golden leaves them dangling. (A user's removal of a golden is refused
     * while its forks exist; this order is for the reaper's, whose owner died.)
     */
    @Override
    public void discard(Path vmDir) {
        String name = machineName(vmDir.getFileName().toString());
        try {
            SmolvmForks.of(vmDir, name, cli()).forEach(fork -> discard(machineName(fork)));
        } catch (SmartVmException e) {
            // no smolvm here any more: nothing of ours is left to delete
        }
        discard(name);
    }

    private static boolean exists(SmolvmCli c, String name) {
        return c.ls().stream().anyMatch(m -> m.name().equals(name));
    }

    private void discard(String name) {
        try {
            SmolvmCli c = cli();
            if (exists(c, name)) {
                c.delete(name);
            }
        } catch (SmartVmException e) {
            // no smolvm here any more, or it refused: nothing of ours is left to delete
        }
    }
}

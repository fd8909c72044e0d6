package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.TemplateInfo;
import dev.smartvm.VmSpec;
import dev.smartvm.VmState;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.snapshot.SavedStore;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.Capability;
import dev.smartvm.spi.ForkOf;
import dev.smartvm.spi.NicSpec;
import dev.smartvm.spi.RestoreState;
import dev.smartvm.spi.TemplateMemory;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Fork: a running VM's exact state (processes, memory, files) continued by N children. The
 * source is paused only while its state is saved; a VMM that never runs the guest then loads
 * that state into a memory file and saves it as a template ({@link Backend#templateFromState}),
 * whose clones the children are: they share the memory none of them writes. The template is
 * removed with the last child ({@link VmTemplates#removeIfForkBaseUnused}). An engine without
 * templates that forks by itself (smolvm) makes the children ({@link ForkOf}) and keeps the
 * source frozen.
 */
public final class VmForks {
    public static final int MAX_CHILDREN = 64;
    private static final SecureRandom RANDOM = new SecureRandom();

    private VmForks() {
    }

    /**
     * Forks the running or paused VM of {@code source} into {@code n} running children, owned by
     * the given process. Whatever fails, no child and no template is left, and the source goes on.
     *
     * @throws SmartVmException INVALID_ARGUMENT for n outside 1..64; INVALID_STATE for a VM that
     *     is not running or paused; UNSUPPORTED for an engine without templates
     */
    public static List<VmLifecycle> fork(VmContext context, VmLifecycle source, int n, long ownerPid, Instant ownerStartedAt) {
        if (n < 1 || n > MAX_CHILDREN) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a fork makes 1 to " + MAX_CHILDREN + " children; found " + n);
        }
        VmRecord r = source.current();
        if (r.state() != VmState.RUNNING && r.state() != VmState.PAUSED) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot fork VM '" + r.name() + "': it is "
                    + r.state().name().toLowerCase() + "; only a running or paused VM has a state to continue");
        }
        Backend backend = context.backendThatCan(r.spec().backend(), Capability.FORK, "fork a VM");
        if (!backend.has(Capability.TEMPLATES)) {
            return forkByEngine(context, source, r, n, ownerPid, ownerStartedAt);
        }
        String base = baseName(r.name());
        VmSpec spec = r.spec().toBuilder().name(null).template(null).acceleration(r.acceleration())
                .network(VmTemplates.decidedNetwork(r.spec(), r)).build();
        TemplateInfo template = saveBase(context, source, backend, base, spec, r.name());
        List<VmLifecycle> children = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                VmLifecycle child = VmCreation.create(context, VmSpec.builder().template(template.name())
                        .env(r.spec().env()).workdir(r.spec().workdir()).defaultTimeout(r.spec().defaultTimeout())
                        .network(spec.network()).build(), // each its own address and rules, in its source's mode
                        ownerPid, ownerStartedAt);
                children.add(child);
                child.start();
            }
            return children;
        } catch (RuntimeException e) {
            for (VmLifecycle child : children) {
                try {
                    child.remove(); // the last one removes the template too
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            VmTemplates.removeIfForkBaseUnused(context, template.name());
            throw e;
        }
    }

    /**
     * A fork the engine makes itself ({@link ForkOf}, smolvm's {@code machine fork}): each child
     * is created as a VM of the source's spec and started as its fork; the engine keeps the
     * source frozen, which is recorded as paused.
     */
    private static List<VmLifecycle> forkByEngine(VmContext context, VmLifecycle source, VmRecord r, int n, long ownerPid,
            Instant ownerStartedAt) {
        List<VmLifecycle> children = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                // the source's network, less its published ports: a host port is the source's alone
                VmLifecycle child = VmCreation.create(context, r.spec().toBuilder().name(null)
                        .network(r.spec().network().publishing(List.of())).build(), ownerPid, ownerStartedAt);
                children.add(child);
                child.start(new ForkOf(r.id()));
                if (i == 0) {
                    source.update(s -> s.state() == VmState.RUNNING ? s.moveTo(VmState.PAUSED, null) : s);
                }
            }
            return children;
        } catch (RuntimeException e) {
            for (VmLifecycle child : children) {
                try {
                    child.remove();
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            throw e;
        }
    }

    /** The template the children start from: the source's state, saved while it is paused, loaded into a memory file. */
    private static TemplateInfo saveBase(VmContext context, VmLifecycle source, Backend backend, String base, VmSpec spec,
            String sourceName) {
        SavedStore<TemplateInfo> store = context.templates();
        try (SavedStore<TemplateInfo>.Partial partial = store.begin(base)) {
            java.nio.file.Path stream = partial.dir().resolve("stream");
            createDirectory(stream);
            VmSnapshots.saveWhilePaused(source, stream);
            BootRequest loader = VmBooter.plan(context, spec, partial.dir().resolve("l")) // short: its sockets
                    .with(new RestoreState(stream)).with(new TemplateMemory(partial.dir().resolve(VmTemplates.MEMORY)));
            if (loader.nic() != null && !loader.nic().userMode()) {
                // the same device on a TAP of its own, which QEMU makes and drops (the saved device wants a TAP's
                // vnet header); on no bridge: the guest never runs
                loader = loader.withNic(new NicSpec(loaderTap(), loader.nic().mac(), loader.nic().kernelArgs()));
            }
            createDirectory(loader.vmDir());
            backend.templateFromState(loader, partial.dir());
            FileTrees.deleteQuietly(stream);
            FileTrees.deleteQuietly(loader.vmDir());
            VmTemplates.makeReadOnly(partial.dir());
            return partial.commit((size, at) -> new TemplateInfo(base, backend.name(), backend.version(), spec.acceleration(),
                    spec, List.of(), Instant.now(), size, at, sourceName));
        }
    }

    private static void createDirectory(java.nio.file.Path dir) {
        try {
            java.nio.file.Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot create " + dir + ": " + e.getMessage(), e);
        }
    }

    /** A TAP name no VM's has: {@code svl} and 8 hex digits (a VM's are {@code sv} and 13). */
    private static String loaderTap() {
        return "svl" + randomHex();
    }

    /** {@code <vm>-fork-<8 hex>}, the VM's name shortened to keep it a valid name. */
    private static String baseName(String vm) {
        return (vm.length() > 40 ? vm.substring(0, 40) : vm) + "-fork-" + randomHex();
    }

    private static String randomHex() {
        byte[] b = new byte[4];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}

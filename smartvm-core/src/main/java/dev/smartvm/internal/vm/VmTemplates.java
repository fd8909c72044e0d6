package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecRequest;
import dev.smartvm.ExecResult;
import dev.smartvm.SmartVmException;
import dev.smartvm.TemplateInfo;
import dev.smartvm.VmSpec;
import dev.smartvm.VmState;
import dev.smartvm.internal.snapshot.SavedStore;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.Capability;
import dev.smartvm.spi.TemplateClone;
import dev.smartvm.spi.TemplateMemory;
import dev.smartvm.spi.VmmProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Templates: a VM booted with its memory in a file of its own, prepared by shell commands, and
 * saved beside that file (devices and disk); clones map the file copy-on-write. The template VM
 * never runs again once saved (its QEMU quits while paused), and the template's files are made
 * read-only: clones only ever read them.
 */
public final class VmTemplates {
    /** The template's memory file, in its directory. */
    static final String MEMORY = "memory";
    private static final int PREPARE_OUTPUT_SHOWN = 2000;

    private VmTemplates() {
    }

    /**
     * Makes template {@code name}: boots {@code spec}'s image with its memory in the
     * template's file, runs each {@code prepare} command with {@code sh -c} in order, and saves
     * it. Whatever fails, nothing is left: no template, no VM, no memory file.
     *
     * @throws SmartVmException NAME_IN_USE; PREPARE_FAILED when a command exits non-zero;
     *     UNSUPPORTED for an engine without templates
     */
    public static TemplateInfo create(VmContext context, String name, VmSpec spec, List<String> prepare, long ownerPid,
            Instant ownerStartedAt) {
        Backend backend = context.backendThatCan(spec.backend(), Capability.TEMPLATES, "make templates");
        if (spec.template() != null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a template is made from an image, not from template '"
                    + spec.template() + "': give that template's prepare commands too");
        }
        backend.options(spec);
        SavedStore<TemplateInfo> store = context.templates();
        try (SavedStore<TemplateInfo>.Partial partial = store.begin(name)) {
            VmRecord r = context.store().create(spec.toBuilder().name(null).build(), ownerPid, ownerStartedAt);
            VmLifecycle life = new VmLifecycle(context, r, true);
            VmRecord saved;
            try {
                life.start(new TemplateMemory(partial.dir().resolve(MEMORY)));
                for (String command : prepare) {
                    runPrepare(life, spec, name, command);
                }
                life.suspend(true);
                VmmProcess vmm = life.activeVmm();
                if (vmm == null) {
                    throw new SmartVmException(ErrorCode.VM_STOPPED, "the VM of template '" + name + "' stopped while it was saved");
                }
                vmm.saveTemplate(partial.dir());
                saved = life.current();
            } finally {
                life.remove(); // quits the paused VMM at once: the template's memory is never written again
            }
            makeReadOnly(partial.dir());
            List<String> commands = List.copyOf(prepare);
            VmSpec kept = spec.toBuilder().name(null).network(decidedNetwork(spec, saved)).build();
            return partial.commit((size, at) -> new TemplateInfo(name, backend.name(), backend.version(),
                    saved.acceleration(), kept, commands, Instant.now(), size, at, null));
        }
    }

    /**
     * The spec's network with the mode it ran in (bridge or user, as decided at its boot): its
     * copies need the same kind of network device backend (a saved TAP device wants a TAP).
     */
    static dev.smartvm.NetworkSpec decidedNetwork(VmSpec spec, VmRecord ran) {
        return spec.network().enabled() && ran.networkMode() != null ? spec.network().inMode(ran.networkMode()) : spec.network();
    }

    private static void runPrepare(VmLifecycle life, VmSpec spec, String name, String command) {
        ExecResult result = life.requireAgent("prepare").run(new ExecRequest(List.of("sh", "-c", command), spec.env(),
                spec.workdir(), spec.defaultTimeout(), null, -1));
        if (result.exitCode() != 0) {
            String stderr = result.stderr().strip();
            if (stderr.length() > PREPARE_OUTPUT_SHOWN) {
                stderr = "..." + stderr.substring(stderr.length() - PREPARE_OUTPUT_SHOWN);
            }
            throw new SmartVmException(ErrorCode.PREPARE_FAILED, "template '" + name + "': the prepare command '" + command
                    + "' exited with " + result.exitCode() + (stderr.isEmpty() ? "" : ": " + stderr));
        }
    }

    static void makeReadOnly(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--r--r--"));
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot make " + dir + " read-only: " + e.getMessage(), e);
        }
    }

    /**
     * The spec a clone of {@code spec.template()} runs with: the template's engine, image, CPUs,
     * memory and acceleration; the spec's name, env (over the template's), workdir and timeouts,
     * and its network (its own address and rules) when it asks for one, else the template's (a
     * clone has the network device its template had).
     *
     * @throws SmartVmException TEMPLATE_NOT_FOUND; UNSUPPORTED when the engine's version is not
     *     the template's, or the spec asks for a network its template has no device for
     */
    public static VmSpec cloneSpec(VmContext context, VmSpec spec) {
        TemplateInfo t = context.templates().get(spec.template());
        Backend backend = context.backend(t.backend());
        if (!backend.version().equals(t.engineVersion())) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "template " + t.name() + " was made by " + t.engineVersion()
                    + "; this host has " + backend.version() + ": make it again");
        }
        VmSpec base = t.spec();
        if (spec.network().enabled() && !base.network().enabled()) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "template " + t.name() + " has no network device, so its"
                    + " clones cannot have one: make the template with a network");
        }
        dev.smartvm.NetworkSpec.Mode mode = base.network().mode();
        if (spec.network().enabled() && spec.network().mode() != dev.smartvm.NetworkSpec.Mode.AUTO
                && mode != dev.smartvm.NetworkSpec.Mode.AUTO && spec.network().mode() != mode) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "template " + t.name() + " ran with a " + mode.name()
                    .toLowerCase() + " network, so its clones do too; drop --net-mode " + spec.network().mode().name()
                    .toLowerCase());
        }
        return base.toBuilder().name(spec.name()).env(spec.env())
                .network(spec.network().enabled() ? spec.network().inMode(mode) : base.network())
                .workdir(spec.workdir() != null ? spec.workdir() : base.workdir())
                .defaultTimeout(spec.defaultTimeout() != null ? spec.defaultTimeout() : base.defaultTimeout())
                .bootTimeout(spec.bootTimeout()).acceleration(t.acceleration()).template(t.name()).build();
    }

    /**
     * What the first start of a clone adds to its boot request; empty for a VM that is no
     * clone, or a clone that ran before (a stopped clone boots its image, with its own disk).
     *
     * @throws SmartVmException TEMPLATE_NOT_FOUND when its template is gone
     */
    static Optional<TemplateClone> firstStart(VmContext context, VmRecord r, VmState before) {
        if (r.spec().template() == null || before != VmState.CREATED) {
            return Optional.empty();
        }
        TemplateInfo t = context.templates().get(r.spec().template());
        return Optional.of(new TemplateClone(t.directory(), t.directory().resolve(MEMORY)));
    }

    /**
     * Removes template {@code name}, refused while a VM (of any state) is its clone: a clone
     * maps its memory and writes over its disk. Checked under the VM names' lock, so that no
     * clone is made meanwhile ({@link #confirmClone}).
     *
     * @throws SmartVmException TEMPLATE_NOT_FOUND; TEMPLATE_IN_USE
     */
    public static void remove(VmContext context, String name) {
        context.templates().get(name);
        context.store().underNamesLock(() -> {
            List<String> clones = context.store().all().stream()
                    .filter(r -> name.equals(r.spec().template()) && r.state() != VmState.REMOVED).map(VmRecord::name).toList();
            if (!clones.isEmpty()) {
                throw new SmartVmException(ErrorCode.TEMPLATE_IN_USE, "template " + name + " has clones: " + String.join(", ",
                        clones) + "; remove them first ('smartvm rm NAME')");
            }
            context.templates().remove(name);
        });
    }

    /**
     * Removes {@code name} if it is a fork's template ({@link TemplateInfo#forkedFrom}) that no VM
     * is a clone of any more: its last child went. Quiet: a removal that fails is tried again by
     * the next child's removal, and a fork's template is otherwise harmless.
     */
    static void removeIfForkBaseUnused(VmContext context, String name) {
        if (name == null || context.templates().find(name).map(TemplateInfo::forkedFrom).isEmpty()) {
            return;
        }
        try {
            remove(context, name);
        } catch (SmartVmException e) {
            // still in use (TEMPLATE_IN_USE), or gone meanwhile: nothing to do
        }
    }

    /**
     * Checks, once a clone's record exists, that its template still does (it may have been
     * removed between the spec's resolution and the record): if not, the record goes.
     *
     * @throws SmartVmException TEMPLATE_NOT_FOUND
     */
    public static void confirmClone(VmContext context, VmLifecycle clone) {
        String template = clone.current().spec().template();
        if (template != null && context.templates().find(template).isEmpty()) {
            clone.remove();
            context.templates().get(template); // throws
        }
    }
}

package dev.smartvm.internal.vm;

import dev.smartvm.TimeLimits;
import dev.smartvm.VmSpec;
import dev.smartvm.internal.net.EgressPolicy;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.Capability;
import java.time.Instant;

/** The making of a VM's record (state CREATED), once its spec passed what needs the host. */
public final class VmCreation {
    private VmCreation() {
    }

    /**
     * Checks {@code spec} against the host and makes its VM's record, owned by the given
     * process. What needs the host (files, name resolution) is checked here, not in VmSpec,
     * which is also read back from disk long after: a bad file or a name that does not resolve
     * fails before anything exists. A spec that names a template makes a clone of it.
     */
    public static VmLifecycle create(VmContext context, VmSpec spec, long ownerPid, Instant ownerStartedAt) {
        spec = asRun(context, spec);
        Backend backend = context.backend(spec.backend()); // a registered one
        backend.options(spec); // the engine's own options, checked
        TimeLimits limits = spec.timeLimits();
        if (limits.idleTimeout() != null) {
            context.backendThatCan(spec.backend(), Capability.GUEST_USAGE, "tell when a VM was last used (an idle timeout"
                    + " needs SmartVM's guest agent)");
            if (limits.onIdle() == TimeLimits.OnIdle.PAUSE) {
                context.backendThatCan(spec.backend(), Capability.PAUSE, "pause a VM (--on-idle pause)");
            }
        }
        if (spec.network().enabled() && !backend.has(Capability.OWNS_IMAGES_AND_NETWORK)) { // such an engine resolves its own
            EgressPolicy.parse(spec.network().allow(), spec.network().deny(), context.resolver());
        }
        VmLifecycle life = new VmLifecycle(context, context.store().create(spec, ownerPid, ownerStartedAt), true);
        VmTemplates.confirmClone(context, life);
        return life;
    }

    /**
     * The default command of {@code spec}'s image (an OCI image's Entrypoint and Cmd), the image
     * fetched or built as a start would; empty when it has none.
     *
     * @throws SmartVmException INVALID_ARGUMENT for an engine that pulls its own images
     */
    public static java.util.List<String> imageCommand(VmContext context, VmSpec spec) {
        VmSpec asRun = asRun(context, spec);
        Backend backend = context.backend(asRun.backend());
        if (backend.has(Capability.OWNS_IMAGES_AND_NETWORK)) {
            throw new dev.smartvm.SmartVmException(dev.smartvm.ErrorCode.INVALID_ARGUMENT, "the " + backend.name()
                    + " backend pulls the image in its guest, so its default command is not known here: give the command");
        }
        return context.images().resolve(asRun.image()).defaults().command();
    }

    /** {@code spec} as it runs: a clone's is made from its template's ({@link VmTemplates#cloneSpec}). */
    public static VmSpec asRun(VmContext context, VmSpec spec) {
        return spec.template() == null ? spec : VmTemplates.cloneSpec(context, spec);
    }
}

package dev.smartvm.junit;

import dev.smartvm.ErrorCode;
import dev.smartvm.MicroVm;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts sandboxes: one {@link SmartVm} for the whole test run (kept in the root context's
 * store, closed when the run ends), each VM kept in the store of the context it was started
 * for, so that JUnit removes it when that context closes.
 */
final class Sandboxes {
    static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SmartVmExtension.class);
    /** A {@code MicroVm} parameter without {@code @Sandbox}: the defaults. */
    static final Sandbox DEFAULTS = defaults();

    private Sandboxes() {
    }

    /**
     * A VM for {@code sandbox}, ready; removed when {@code context} closes, or at once when it
     * does not become ready.
     */
    static MicroVm start(ExtensionContext context, Sandbox sandbox, String what) {
        SmartVm svm = smartVm(context);
        VmSpec spec = spec(context, svm, sandbox);
        MicroVm vm;
        try {
            vm = svm.start(spec);
        } catch (SmartVmException e) {
            throw new SmartVmException(e.code(), what + " did not start: " + e.getMessage(), e);
        }
        context.getStore(NAMESPACE).put(vm.id(), (ExtensionContext.Store.CloseableResource) vm::close);
        try {
            Readiness.await(vm, sandbox, what);
            return vm;
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }

    /** The run's SmartVm, on $SMARTVM_HOME (or the {@code smartvm.home} system property). */
    static SmartVm smartVm(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(OpenSmartVm.class,
                k -> new OpenSmartVm(SmartVm.builder().notices(System.err::println).build()), OpenSmartVm.class).svm();
    }

    /** The run's SmartVm as a resource of the root context: closed (every sandbox of the run removed) when the run ends. */
    private record OpenSmartVm(SmartVm svm) implements ExtensionContext.Store.CloseableResource {
        @Override
        public void close() {
            svm.close();
        }
    }

    private static VmSpec spec(ExtensionContext context, SmartVm svm, Sandbox s) {
        VmSpec.Builder b = VmSpec.builder();
        if (!s.image().isEmpty()) {
            b.image(s.image());
        }
        if (!s.template().isEmpty()) {
            b.template(Templates.resolve(context, svm, s.template()));
        }
        if (s.cpus() > 0) {
            b.cpus(s.cpus());
        }
        if (s.memoryMib() > 0) {
            b.memoryMib(s.memoryMib());
        }
        b.env(env(s.env(), "@Sandbox"));
        if (s.network() || s.allow().length > 0 || s.deny().length > 0 || s.publish().length > 0) {
            b.network(NetworkSpec.enabled(List.of(s.allow()), List.of(s.deny())).publishing(List.of(s.publish())));
        }
        if (s.readyTimeoutSeconds() <= 0) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "@Sandbox readyTimeoutSeconds must be positive; found "
                    + s.readyTimeoutSeconds());
        }
        return b.build();
    }

    /** {@code KEY=VALUE} entries as a map. */
    static Map<String, String> env(String[] entries, String where) {
        Map<String, String> env = new TreeMap<>();
        for (String e : entries) {
            int eq = e.indexOf('=');
            if (eq <= 0) {
                throw new ExtensionConfigurationException(where + " env entries are KEY=VALUE; found '" + e + "'");
            }
            env.put(e.substring(0, eq), e.substring(eq + 1));
        }
        return env;
    }

    private static Sandbox defaults() {
        try {
            return Defaults.class.getDeclaredField("vm").getAnnotation(Sandbox.class);
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Holds the annotation whose attributes are all defaults. */
    private static final class Defaults {
        @Sandbox
        private MicroVm vm;
    }
}

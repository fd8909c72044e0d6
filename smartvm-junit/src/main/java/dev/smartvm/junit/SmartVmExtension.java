package dev.smartvm.junit;

import dev.smartvm.MicroVm;
import java.lang.reflect.Field;
import java.util.List;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;
import org.junit.platform.commons.support.ModifierSupport;

/**
 * The extension behind {@link SmartVmTest} (or {@code @ExtendWith(SmartVmExtension.class)}):
 * starts the VM of each {@link Sandbox} static field before the class, of each instance field
 * before each test, and of each {@code MicroVm} parameter when it is resolved; each is removed
 * when its scope's extension context closes (JUnit closes what the context stores, after the
 * tests and callbacks, whether they passed or not).
 */
public final class SmartVmExtension implements BeforeAllCallback, BeforeEachCallback, ParameterResolver {
    @Override
    public void beforeAll(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        for (Field f : sandboxFields(testClass, true)) {
            set(null, f, Sandboxes.start(context, f.getAnnotation(Sandbox.class), describe(f)));
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
            for (Field f : sandboxFields(instance.getClass(), false)) {
                set(instance, f, Sandboxes.start(context, f.getAnnotation(Sandbox.class), describe(f)));
            }
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == MicroVm.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Sandbox sandbox = parameter.findAnnotation(Sandbox.class).orElse(Sandboxes.DEFAULTS);
        String what = "sandbox parameter " + parameter.getIndex() + " of " + parameter.getDeclaringExecutable().getName();
        return Sandboxes.start(context, sandbox, what);
    }

    /** The {@link Sandbox} fields of a class and its superclasses, static or not; each must be a non-final MicroVm. */
    private static List<Field> sandboxFields(Class<?> type, boolean statics) {
        List<Field> fields = AnnotationSupport.findAnnotatedFields(type, Sandbox.class,
                f -> ModifierSupport.isStatic(f) == statics, HierarchyTraversalMode.TOP_DOWN);
        for (Field f : fields) {
            if (f.getType() != MicroVm.class || ModifierSupport.isFinal(f)) {
                throw new ExtensionConfigurationException("@Sandbox " + describe(f) + " must be a MicroVm that is not final");
            }
        }
        return fields;
    }

    private static String describe(Field f) {
        return "sandbox " + f.getDeclaringClass().getSimpleName() + "." + f.getName();
    }

    private static void set(Object instance, Field f, MicroVm vm) {
        try {
            f.setAccessible(true);
            f.set(instance, vm);
        } catch (ReflectiveOperationException | RuntimeException e) {
            vm.close();
            throw new ExtensionConfigurationException("cannot set @Sandbox " + describe(f) + ": " + e.getMessage(), e);
        }
    }
}

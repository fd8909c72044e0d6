package dev.smartvm.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test class whose {@link Sandbox} fields and {@code MicroVm} parameters are microVMs: started
 * before they are needed, removed after their scope (a static field's after the class, an
 * instance field's and a parameter's after the test), also when a test fails. VMs of a test JVM
 * that is killed are reaped by the next {@code SmartVm} on the same home, or by {@code smartvm gc}.
 *
 * <p>The VMs live in {@code $SMARTVM_HOME} (or the {@code smartvm.home} system property), as
 * every SmartVM VM does; one {@code SmartVm} serves the whole test run.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(SmartVmExtension.class)
public @interface SmartVmTest {
}

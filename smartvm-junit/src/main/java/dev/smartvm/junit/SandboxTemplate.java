package dev.smartvm.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A template a {@link SmartVmTest} class's sandboxes clone ({@code @Sandbox(template = NAME)}):
 * booted and prepared once, then reused by every test, run and JVM on the home, so that each
 * sandbox starts in tens of milliseconds. It is saved as {@code NAME-<hash of its inputs>}: a
 * change of the image (SmartVM's agent included), CPUs, memory, environment or prepare commands
 * makes a new one, and the older ones of that name nothing clones are removed.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Repeatable(SandboxTemplates.class)
public @interface SandboxTemplate {
    /** What sandboxes call it: 1 to 52 letters, digits, '_', '.' or '-', starting with a letter or digit. */
    String name();

    /** The image ("" for the default). */
    String image() default "";

    /** vCPUs; 0 for the default. */
    int cpus() default 0;

    /** Memory in MiB; 0 for the default. */
    int memoryMib() default 0;

    /** Environment, {@code KEY=VALUE}. */
    String[] env() default {};

    /** Shell commands ({@code sh -c}) run in order before it is saved: install, start servers, warm caches. */
    String[] prepare() default {};
}

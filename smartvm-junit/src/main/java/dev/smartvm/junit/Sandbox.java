package dev.smartvm.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A {@code MicroVm} field or parameter of a {@link SmartVmTest}: a VM started for it, ready when
 * its checks pass. A static field's VM lives for the class, an instance field's and a
 * parameter's for one test (as Testcontainers' {@code @Container}). A {@code MicroVm} parameter
 * without the annotation gets a VM of the defaults.
 *
 * <p>Readiness: each check given ({@link #readyCommand}, {@link #readyPort}, {@link #readyLog})
 * must pass within {@link #readyTimeoutSeconds}; one that does not fails the test
 * ({@code SmartVmException} NOT_READY, with the guest console's last lines) and removes the VM.
 */
@Target({ElementType.FIELD, ElementType.PARAMETER})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Sandbox {
    /** The image to boot ({@code smartvm images} references); "" for the default image. */
    String image() default "";

    /**
     * A template to clone: the name of a {@link SandboxTemplate} of the test class (made once,
     * and again only when its inputs change), else of a template in the home. A clone has its
     * template's image, CPUs and memory.
     */
    String template() default "";

    /** vCPUs; 0 for the default. */
    int cpus() default 0;

    /** Memory in MiB; 0 for the default. */
    int memoryMib() default 0;

    /** Environment of every command, {@code KEY=VALUE}. */
    String[] env() default {};

    /** A network; implied by {@link #allow}, {@link #deny} and {@link #publish}. */
    boolean network() default false;

    /** Egress allowed (CIDRs, addresses, hostnames, with {@code :port}): all else is denied. */
    String[] allow() default {};

    /** Egress denied. */
    String[] deny() default {};

    /** Published ports, {@code [ADDR:]HOST:GUEST[/udp]}. */
    String[] publish() default {};

    /** A shell command ({@code sh -c}) that must exit 0; tried until it does. */
    String readyCommand() default "";

    /** A TCP port on which something in the guest must listen. */
    int readyPort() default 0;

    /** Text a line of the guest's console must contain. */
    String readyLog() default "";

    /** How long the checks may take, in seconds. */
    int readyTimeoutSeconds() default 60;
}

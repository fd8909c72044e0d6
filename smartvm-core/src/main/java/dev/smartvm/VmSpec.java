package dev.smartvm;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What to boot: the engine, the image, the machine's size, and the defaults every exec inherits.
 *
 * @param name a unique name, or null for one made from the VM id
 * @param backend the engine, by the name its backend is registered under: {@code qemu} (default),
 *     {@code firecracker}, {@code smolvm}, or a custom one ({@code SmartVm.Builder.backend})
 * @param image an image reference; {@code default} is the locally built Debian image
 * @param cpus virtual CPUs, 1 to 32
 * @param memoryMib guest memory in MiB, 64 to 65536
 * @param env environment given to every exec (an exec's own entries win)
 * @param workdir working directory of every exec unless the exec names one; null for {@code /}
 * @param defaultTimeout the timeout of an exec that names none; null for none
 * @param acceleration KVM, TCG or AUTO (KVM only where a probe proved it works)
 * @param bootTimeout how long to wait for the guest agent after the VMM started
 * @param firecrackerConfig a file in Firecracker's config-file format: its boot-source kernel
 *     boots with SmartVM's agent, its root drive is the root the agent switches to, its other
 *     objects (balloon, MMDS, entropy, logger, drives and interfaces, machine-config...) are
 *     added to what SmartVM configures; firecracker backend only, null for none
 * @param network the VM's network and egress policy ({@link NetworkSpec#NONE}: no network)
 * @param template the template its first start clones ({@code SmartVm#createTemplate}), or null
 *     to boot its image; a clone has its template's engine, image, CPUs, memory and acceleration
 * @param timeLimits when it ends by itself: a TTL, an idle timeout ({@link TimeLimits#NONE}: never)
 */
public record VmSpec(
        String name,
        String backend,
        String image,
        int cpus,
        int memoryMib,
        Map<String, String> env,
        String workdir,
        Duration defaultTimeout,
        Acceleration acceleration,
        Duration bootTimeout,
        java.nio.file.Path firecrackerConfig,
        NetworkSpec network,
        String template,
        TimeLimits timeLimits) {

    public static final int MAX_CPUS = 32;
    public static final int MIN_MEMORY_MIB = 64;
    public static final int MAX_MEMORY_MIB = 65536;
    private static final Pattern BACKEND = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    public VmSpec {
        if (name != null && !NAME.matcher(name).matches()) {
            throw invalid("a VM name is 1 to 63 letters, digits, '_', '.' or '-', starting with a letter"
                    + " or digit; found '" + name + "'");
        }
        backend = Objects.requireNonNullElse(backend, "qemu");
        if (!BACKEND.matcher(backend).matches()) { // which names are registered, SmartVm.create checks
            throw invalid("a backend name is lower-case letters, digits and '-'; found '" + backend + "'");
        }
        network = Objects.requireNonNullElse(network, NetworkSpec.NONE);
        if (network.enabled()) {
            // Form only: a spec is also read back from disk, when a name may no longer resolve (SmartVm.create resolves).
            dev.smartvm.internal.net.EgressPolicy.check(network.allow(), network.deny());
        }
        image = Objects.requireNonNullElse(image, "default");
        if (image.isBlank()) {
            throw invalid("image reference must not be blank");
        }
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw invalid("cpus must be between 1 and " + MAX_CPUS + "; found " + cpus);
        }
        if (memoryMib < MIN_MEMORY_MIB || memoryMib > MAX_MEMORY_MIB) {
            throw invalid("memory must be between " + MIN_MEMORY_MIB + " and " + MAX_MEMORY_MIB
                    + " MiB; found " + memoryMib);
        }
        env = Map.copyOf(env == null ? Map.of() : env);
        env.forEach(VmSpec::checkEnv);
        if (workdir != null && !workdir.startsWith("/")) {
            throw invalid("workdir must be an absolute guest path; found '" + workdir + "'");
        }
        if (defaultTimeout != null && (defaultTimeout.isNegative() || defaultTimeout.isZero())) {
            throw invalid("default timeout must be positive; found " + defaultTimeout);
        }
        acceleration = Objects.requireNonNullElse(acceleration, Acceleration.AUTO);
        if (template != null && !NAME.matcher(template).matches()) {
            throw invalid("a template name is 1 to 63 letters, digits, '_', '.' or '-', starting with a letter"
                    + " or digit; found '" + template + "'");
        }
        timeLimits = Objects.requireNonNullElse(timeLimits, TimeLimits.NONE);
        bootTimeout = Objects.requireNonNullElse(bootTimeout, Duration.ofSeconds(60));
        if (bootTimeout.isNegative() || bootTimeout.isZero()) {
            throw invalid("boot timeout must be positive; found " + bootTimeout);
        }
    }

    /** Checks one environment entry the way the guest will see it. */
    public static void checkEnv(String key, String value) {
        if (key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('\0') >= 0) {
            throw invalid("an environment name must be non-empty without '=' or NUL; found '" + key + "'");
        }
        if (value.indexOf('\0') >= 0) {
            throw invalid("the value of environment variable " + key + " contains NUL");
        }
    }

    private static SmartVmException invalid(String message) {
        return new SmartVmException(ErrorCode.INVALID_ARGUMENT, message);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().name(name).backend(backend).image(image).cpus(cpus).memoryMib(memoryMib)
                .env(env).workdir(workdir).defaultTimeout(defaultTimeout).acceleration(acceleration)
                .bootTimeout(bootTimeout).firecrackerConfig(firecrackerConfig)
                .network(network).template(template).timeLimits(timeLimits);
    }

    /** Builds a {@link VmSpec}; everything has a default. */
    public static final class Builder {
        private String name;
        private String backend = "qemu";
        private String image = "default";
        private int cpus = 1;
        private int memoryMib = 256;
        private final Map<String, String> env = new LinkedHashMap<>();
        private String workdir;
        private Duration defaultTimeout;
        private Acceleration acceleration = Acceleration.AUTO;
        private Duration bootTimeout = Duration.ofSeconds(60);
        private java.nio.file.Path firecrackerConfig;
        private NetworkSpec network = NetworkSpec.NONE;
        private String template;
        private TimeLimits timeLimits = TimeLimits.NONE;

        /** When the VM ends by itself (default: never). */
        public Builder timeLimits(TimeLimits limits) {
            this.timeLimits = limits;
            return this;
        }

        /** The VM is removed (or as {@link #onTtl} says) this long after it starts. */
        public Builder ttl(Duration ttl) {
            timeLimits = new TimeLimits(ttl, timeLimits.onTtl(), timeLimits.idleTimeout(), timeLimits.onIdle());
            return this;
        }

        public Builder onTtl(TimeLimits.OnTtl action) {
            timeLimits = new TimeLimits(timeLimits.ttl(), action, timeLimits.idleTimeout(), timeLimits.onIdle());
            return this;
        }

        /** The VM is stopped (or as {@link #onIdle} says) once no exec, copy, files call or terminal was active this long. */
        public Builder idleTimeout(Duration timeout) {
            timeLimits = new TimeLimits(timeLimits.ttl(), timeLimits.onTtl(), timeout, timeLimits.onIdle());
            return this;
        }

        public Builder onIdle(TimeLimits.OnIdle action) {
            timeLimits = new TimeLimits(timeLimits.ttl(), timeLimits.onTtl(), timeLimits.idleTimeout(), action);
            return this;
        }

        /**
         * Starts the VM as a clone of template {@code name} (null: boot the image): where the
         * template was saved, its prepared processes running. The engine, image, CPUs, memory and
         * acceleration are the template's; the rest of this spec (name, env, workdir, timeouts)
         * applies. Later starts of a stopped clone boot the template's image with the clone's disk.
         */
        public Builder template(String name) {
            this.template = name;
            return this;
        }

        /** The VM's network and egress policy (default: none). */
        public Builder network(NetworkSpec network) {
            this.network = network;
            return this;
        }

        /** Extra Firecracker API objects, in Firecracker's config-file format (firecracker backend only). */
        public Builder firecrackerConfig(java.nio.file.Path file) {
            this.firecrackerConfig = file == null ? null : file.toAbsolutePath();
            return this;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder backend(String backend) {
            this.backend = backend;
            return this;
        }

        public Builder image(String image) {
            this.image = image;
            return this;
        }

        public Builder cpus(int cpus) {
            this.cpus = cpus;
            return this;
        }

        public Builder memoryMib(int memoryMib) {
            this.memoryMib = memoryMib;
            return this;
        }

        public Builder env(String key, String value) {
            env.put(key, value);
            return this;
        }

        public Builder env(Map<String, String> entries) {
            env.putAll(entries);
            return this;
        }

        public Builder workdir(String workdir) {
            this.workdir = workdir;
            return this;
        }

        public Builder defaultTimeout(Duration timeout) {
            this.defaultTimeout = timeout;
            return this;
        }

        public Builder acceleration(Acceleration acceleration) {
            this.acceleration = acceleration;
            return this;
        }

        public Builder bootTimeout(Duration timeout) {
            this.bootTimeout = timeout;
            return this;
        }

        public VmSpec build() {
            return new VmSpec(name, backend, image, cpus, memoryMib, env, workdir, defaultTimeout,
                    acceleration, bootTimeout, firecrackerConfig, network, template, timeLimits);
        }
    }
}

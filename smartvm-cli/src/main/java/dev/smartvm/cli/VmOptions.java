package dev.smartvm.cli;

import dev.smartvm.Acceleration;
import dev.smartvm.ErrorCode;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVmException;
import dev.smartvm.TimeLimits;
import dev.smartvm.VmSpec;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options that describe a VM, shared by {@code run} and {@code create}. */
final class VmOptions {
    @Option(names = "--cpus", paramLabel = "N", description = "Virtual CPUs (default ${DEFAULT-VALUE}).")
    int cpus = 1;

    @Option(names = "--memory", paramLabel = "MiB", description = "Guest memory in MiB (default ${DEFAULT-VALUE}).")
    int memoryMib = 256;

    @Option(names = "--image", paramLabel = "REF", description = "Image to boot (default ${DEFAULT-VALUE}).")
    String image = "default";

    @Option(names = "--name", paramLabel = "NAME", description = "A unique name for the VM.")
    String name;

    @Option(names = "--backend", paramLabel = "qemu|firecracker|smolvm|kubernetes", description = "The engine (default ${DEFAULT-VALUE}).")
    String backend = "qemu";

    @Option(names = "--firecracker-config", paramLabel = "FILE",
            description = "A Firecracker config file (what firecracker --config-file reads): its kernel boots with SmartVM's agent,"
                    + " its root drive is the root, its other objects are added.")
    java.nio.file.Path firecrackerConfig;

    @Option(names = "--net", description = "Give the VM a network: an address on SmartVM's bridge, NAT to the outside (root).")
    boolean net;

    @Option(names = "--allow", paramLabel = "CIDR|IP|HOST[:PORT]",
            description = "Allow only these destinations (repeatable; with --net). Everything else is dropped.")
    List<String> allow = List.of();

    @Option(names = "--deny", paramLabel = "CIDR|IP|HOST[:PORT]", description = "Deny these destinations (repeatable; with --net).")
    List<String> deny = List.of();

    @Option(names = "--net-mode", paramLabel = "auto|bridge|user", description = {"With --net: bridge (root; egress rules),",
            "user (QEMU user mode: isolated, only published ports reach in), auto (bridge as root, else user; default)."})
    String netMode = "auto";

    @Option(names = {"-p", "--publish"}, paramLabel = "[ADDR:]HOST:GUEST[/udp]",
            description = "Publish a guest port on the host (repeatable; with --net; 127.0.0.1 unless ADDR; TCP unless /udp,"
                    + " which needs the bridge).")
    List<String> publish = List.of();

    @Option(names = "--accel", paramLabel = "auto|kvm|tcg", description = "Acceleration (default ${DEFAULT-VALUE}).")
    String accel = "auto";

    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Environment for every command (repeatable).")
    List<String> env = List.of();

    @Option(names = {"-w", "--workdir"}, paramLabel = "DIR", description = "Working directory of commands.")
    String workdir;

    @Option(names = "--timeout", paramLabel = "DUR", converter = Durations.class,
            description = "Kill a command after this long (exit 124), e.g. 30s.")
    Duration timeout;

    @Option(names = "--template", paramLabel = "NAME", description = {"Start a clone of this template ('smartvm template"
            + " create'):", "its image, CPUs, memory and engine, where it was prepared."})
    String template;

    @Option(names = "--ttl", paramLabel = "DUR", converter = Durations.class, description = {"The VM's lifetime from its"
            + " start, e.g. 10m: then it is removed (or as --on-ttl says), even after this command has exited;"
            + " 'smartvm ttl' changes it."})
    Duration ttl;

    @Option(names = "--on-ttl", paramLabel = "remove|stop", description = "What happens when the TTL ends (default: remove).")
    String onTtl;

    @Option(names = "--idle-timeout", paramLabel = "DUR", converter = Durations.class, description = {"Stop the VM (or as"
            + " --on-idle says) once no exec, copy, files call or terminal has been active this long."})
    Duration idleTimeout;

    @Option(names = "--on-idle", paramLabel = "stop|pause", description = "What happens when it is idle (default: stop);"
            + " a paused one is resumed by the next exec, copy or files call.")
    String onIdle;

    @Option(names = "--kube-context", paramLabel = "CONTEXT", description = "kubernetes backend: the kubeconfig context"
            + " (default: the current one, or the pod's service account in a cluster).")
    String kubeContext;

    @Option(names = "--namespace", paramLabel = "NS", description = "kubernetes backend: the namespace of the sandbox's"
            + " objects (default: the context's).")
    String namespace;

    @Option(names = "--runtime-class", paramLabel = "NAME", description = "kubernetes backend: the pod's RuntimeClass"
            + " (default: kata).")
    String runtimeClass;

    /** The kubernetes backend's settings, as the system properties it reads (KubernetesSettings). */
    private void applyKubernetesSettings() {
        if ((kubeContext != null || namespace != null || runtimeClass != null) && !backend.equals("kubernetes")) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "--kube-context, --namespace and --runtime-class are"
                    + " for the kubernetes backend: give --backend kubernetes");
        }
        kubernetesSettings(kubeContext, namespace, runtimeClass);
    }

    /** The kubernetes backend's settings given on the command line, as the system properties it reads. */
    static void kubernetesSettings(String kubeContext, String namespace, String runtimeClass) {
        setProperty("smartvm.kubernetes.context", kubeContext);
        setProperty("smartvm.kubernetes.namespace", namespace);
        setProperty("smartvm.kubernetes.runtimeClass", runtimeClass);
    }

    private static void setProperty(String name, String value) {
        if (value != null) {
            System.setProperty(name, value);
        }
    }

    TimeLimits timeLimits() {
        if (onTtl != null && ttl == null || onIdle != null && idleTimeout == null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, onTtl != null && ttl == null
                    ? "--on-ttl says what happens when the TTL ends: give --ttl too"
                    : "--on-idle says what happens when the VM is idle: give --idle-timeout too");
        }
        return new TimeLimits(ttl, onTtl == null ? null : choice(TimeLimits.OnTtl.class, "--on-ttl", onTtl), idleTimeout,
                onIdle == null ? null : choice(TimeLimits.OnIdle.class, "--on-idle", onIdle));
    }

    private static <E extends Enum<E>> E choice(Class<E> type, String option, String value) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value)) {
                return e;
            }
        }
        throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, option + " is one of " + java.util.Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase()).toList() + "; found '" + value + "'");
    }

    /** The spec; the engine settings given (the kubernetes backend's) take effect for this process's SmartVm. */
    VmSpec toSpec() {
        applyKubernetesSettings();
        if (template != null && (!image.equals("default") || cpus != 1 || memoryMib != 256 || !backend.equals("qemu")
                || firecrackerConfig != null || !accel.equals("auto"))) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a clone has its template's image, CPUs, memory, engine"
                    + " and acceleration: drop --image, --cpus, --memory, --backend, --firecracker-config and --accel"
                    + " with --template");
        }
        return VmSpec.builder().template(template).name(name).backend(backend).firecrackerConfig(firecrackerConfig).image(image).cpus(cpus).memoryMib(memoryMib).env(EnvOptions.parse(env))
                .workdir(workdir).defaultTimeout(timeout).acceleration(Acceleration.parse(accel))
                .network(new NetworkSpec(net, allow, deny, publish, NetworkSpec.Mode.parse(netMode))).timeLimits(timeLimits()).build();
    }

    static final class EnvOptions {
        private EnvOptions() {
        }

        static Map<String, String> parse(List<String> entries) {
            Map<String, String> env = new LinkedHashMap<>();
            for (String e : entries) {
                int eq = e.indexOf('=');
                if (eq <= 0) {
                    throw new dev.smartvm.SmartVmException(dev.smartvm.ErrorCode.INVALID_ARGUMENT,
                            "an environment entry is KEY=VALUE; found '" + e + "'");
                }
                VmSpec.checkEnv(e.substring(0, eq), e.substring(eq + 1));
                env.put(e.substring(0, eq), e.substring(eq + 1));
            }
            return env;
        }
    }
}

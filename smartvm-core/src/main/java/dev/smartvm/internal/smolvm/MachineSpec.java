package dev.smartvm.internal.smolvm;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code smolvm machine create} is given. One of {@code image} (an OCI reference smolvm
 * pulls in the guest at first start) and {@code from} (a packed {@code .smolmachine}) is set.
 *
 * @param cpus 0 for smolvm's default; so is 0 {@code memoryMib}
 * @param net whether the machine has a network (implied by allow rules, and then passed anyway)
 * @param allowCidrs egress allow-list of networks ({@code --allow-cidr})
 * @param allowHosts egress allow-list of hostnames ({@code --allow-host})
 * @param env {@code K=V} entries, checked before the call (smolvm drops malformed ones silently)
 * @param workdir the workload's working directory, or null (smolvm ignores it with {@code --from})
 * @param volumes {@code HOST:GUEST[:ro]}
 * @param ports {@code HOST:GUEST}
 * @param command the workload, or empty
 */
public record MachineSpec(String name, String image, String from, int cpus, int memoryMib, boolean net,
        List<String> allowCidrs, List<String> allowHosts, List<String> env, String workdir, List<String> volumes,
        List<String> ports, List<String> command) {
    public MachineSpec {
        allowCidrs = List.copyOf(allowCidrs);
        allowHosts = List.copyOf(allowHosts);
        env = List.copyOf(env);
        volumes = List.copyOf(volumes);
        ports = List.copyOf(ports);
        command = List.copyOf(command);
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Builds a {@link MachineSpec}; lists add up. */
    public static final class Builder {
        private final String name;
        private String image;
        private String from;
        private int cpus;
        private int memoryMib;
        private boolean net;
        private final List<String> allowCidrs = new ArrayList<>();
        private final List<String> allowHosts = new ArrayList<>();
        private final List<String> env = new ArrayList<>();
        private String workdir;
        private final List<String> volumes = new ArrayList<>();
        private final List<String> ports = new ArrayList<>();
        private final List<String> command = new ArrayList<>();

        private Builder(String name) {
            this.name = name;
        }

        public Builder image(String ref) {
            this.image = ref;
            return this;
        }

        public Builder from(String smolmachine) {
            this.from = smolmachine;
            return this;
        }

        public Builder cpus(int n) {
            this.cpus = n;
            return this;
        }

        public Builder memoryMib(int mib) {
            this.memoryMib = mib;
            return this;
        }

        public Builder net(boolean on) {
            this.net = on;
            return this;
        }

        public Builder allowCidr(String cidr) {
            allowCidrs.add(cidr);
            return this;
        }

        public Builder allowHost(String host) {
            allowHosts.add(host);
            return this;
        }

        public Builder env(String entry) {
            env.add(entry);
            return this;
        }

        public Builder workdir(String dir) {
            this.workdir = dir;
            return this;
        }

        public Builder volume(String mount) {
            volumes.add(mount);
            return this;
        }

        public Builder port(String mapping) {
            ports.add(mapping);
            return this;
        }

        public Builder command(List<String> workload) {
            command.addAll(workload);
            return this;
        }

        public MachineSpec build() {
            return new MachineSpec(name, image, from, cpus, memoryMib, net, allowCidrs, allowHosts, env, workdir, volumes, ports,
                    command);
        }
    }
}

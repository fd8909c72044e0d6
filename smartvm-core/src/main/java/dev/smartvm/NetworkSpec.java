package dev.smartvm;

import java.util.List;

/**
 * A VM's network: off unless enabled. With it, the VM gets an address on SmartVM's bridge and
 * NAT to the outside; {@code allow} (an allow-list: everything else is dropped) and
 * {@code deny} take {@code CIDR}, {@code IP} or {@code HOST}, each with an optional
 * {@code :PORT}. Link-local/metadata addresses, the host and other VMs are denied unless
 * allowed. Enforced on the host with nftables; hostnames are resolved on the host and pinned.
 * {@code publish} lists guest ports (TCP, or UDP with {@code /udp}) reachable from the host.
 */
public record NetworkSpec(boolean enabled, List<String> allow, List<String> deny, List<String> publish, Mode mode) {
    public static final NetworkSpec NONE = new NetworkSpec(false, List.of(), List.of(), List.of(), Mode.AUTO);

    /**
     * How the VM is connected. BRIDGE: SmartVM's bridge with NAT and nftables egress rules
     * (root). USER: QEMU's user-mode network, isolated (no egress at all, the host's own services
     * unreachable), only published ports reach in; no root needed, no egress rules possible.
     * AUTO: BRIDGE for root, USER otherwise.
     */
    public enum Mode {
        AUTO, BRIDGE, USER;

        public static Mode parse(String text) {
            for (Mode m : values()) {
                if (m.name().equalsIgnoreCase(text)) {
                    return m;
                }
            }
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a network mode is auto, bridge or user; found '" + text + "'");
        }
    }

    public NetworkSpec {
        allow = allow == null ? List.of() : List.copyOf(allow);
        deny = deny == null ? List.of() : List.copyOf(deny);
        publish = publish == null ? List.of() : List.copyOf(publish);
        mode = mode == null ? Mode.AUTO : mode;
        if (mode == Mode.USER && (!allow.isEmpty() || !deny.isEmpty())) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the user-mode network reaches nothing outside, so it takes no"
                    + " egress rules; use the bridge (root) for --allow and --deny");
        }
        if (!enabled && (!allow.isEmpty() || !deny.isEmpty() || !publish.isEmpty())) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "egress rules and published ports need the network: enable it"
                    + " (--net)");
        }
        publish.forEach(dev.smartvm.internal.net.PortMapping::parse); // a bad one fails here, before anything exists
        if (mode == Mode.USER && publishesUdp(publish)) { // the fields are not set yet in here
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the user-mode network publishes TCP ports only (QEMU's"
                    + " restricted user network drops the guest's UDP replies); use the bridge (root) for /udp");
        }
    }

    /** Whether some egress rule names a host, whose addresses SmartVM follows while the VM runs. */
    public boolean namesHosts() {
        return java.util.stream.Stream.concat(allow.stream(), deny.stream()).anyMatch(dev.smartvm.internal.net.EgressRule::namesHost);
    }

    /** Whether a published port is UDP (which the user-mode network cannot carry). */
    public boolean publishesUdp() {
        return publishesUdp(publish);
    }

    private static boolean publishesUdp(List<String> publish) {
        return publish.stream().anyMatch(p -> dev.smartvm.internal.net.PortMapping.parse(p).protocol().equals("udp"));
    }

    public NetworkSpec(boolean enabled, List<String> allow, List<String> deny, List<String> publish) {
        this(enabled, allow, deny, publish, Mode.AUTO);
    }

    public NetworkSpec(boolean enabled, List<String> allow, List<String> deny) {
        this(enabled, allow, deny, List.of(), Mode.AUTO);
    }

    public static NetworkSpec enabled(List<String> allow, List<String> deny) {
        return new NetworkSpec(true, allow, deny, List.of(), Mode.AUTO);
    }

    /**
     * The same network with {@code HOST:GUEST} (or {@code ADDR:HOST:GUEST}) ports published, on
     * 127.0.0.1 by default; TCP unless a port ends in {@code /udp}.
     */
    public NetworkSpec publishing(List<String> ports) {
        return new NetworkSpec(enabled, allow, deny, ports, mode);
    }

    public NetworkSpec inMode(Mode m) {
        return new NetworkSpec(enabled, allow, deny, publish, m);
    }
}

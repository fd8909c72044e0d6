package dev.smartvm;

import java.util.List;

/**
 * A VM's network: off unless enabled. With it, the VM gets an address on SmartVM's bridge and
 * NAT to the outside; {@code allow} (an allow-list: everything else is dropped) and
 * {@code deny} take {@code CIDR}, {@code IP} or {@code HOST}, each with an optional
 * {@code :PORT}. Link-local/metadata addresses, the host and other VMs are denied unless
 * allowed. Enforced on the host with nftables; hostnames are resolved on the host and pinned.
 * {@code publish} lists TCP ports of the guest reachable from the host.
 */
public record NetworkSpec(boolean enabled, List<String> allow, List<String> deny, List<String> publish) {
    public static final NetworkSpec NONE = new NetworkSpec(false, List.of(), List.of(), List.of());

    public NetworkSpec {
        allow = allow == null ? List.of() : List.copyOf(allow);
        deny = deny == null ? List.of() : List.copyOf(deny);
        publish = publish == null ? List.of() : List.copyOf(publish);
        if (!enabled && (!allow.isEmpty() || !deny.isEmpty() || !publish.isEmpty())) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "egress rules and published ports need the network: enable it"
                    + " (--net)");
        }
        publish.forEach(dev.smartvm.net.PortMapping::parse); // a bad one fails here, before anything exists
    }

    public NetworkSpec(boolean enabled, List<String> allow, List<String> deny) {
        this(enabled, allow, deny, List.of());
    }

    public static NetworkSpec enabled(List<String> allow, List<String> deny) {
        return new NetworkSpec(true, allow, deny, List.of());
    }

    /** The same network with {@code HOST:GUEST} (or {@code ADDR:HOST:GUEST}) TCP ports published; 127.0.0.1 by default. */
    public NetworkSpec publishing(List<String> ports) {
        return new NetworkSpec(enabled, allow, deny, ports);
    }
}

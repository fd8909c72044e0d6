package dev.smartvm;

import java.util.List;

/**
 * A VM's network: off unless enabled. With it, the VM gets an address on SmartVM's bridge and
 * NAT to the outside; {@code allow} (an allow-list: everything else is dropped) and
 * {@code deny} take {@code CIDR}, {@code IP} or {@code HOST}, each with an optional
 * {@code :PORT}. Link-local/metadata addresses, the host and other VMs are denied unless
 * allowed. Enforced on the host with nftables; hostnames are resolved on the host and pinned.
 */
public record NetworkSpec(boolean enabled, List<String> allow, List<String> deny) {
    public static final NetworkSpec NONE = new NetworkSpec(false, List.of(), List.of());

    public NetworkSpec {
        allow = allow == null ? List.of() : List.copyOf(allow);
        deny = deny == null ? List.of() : List.copyOf(deny);
        if (!enabled && (!allow.isEmpty() || !deny.isEmpty())) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "egress rules need the network: enable it (--net)");
        }
    }

    public static NetworkSpec enabled(List<String> allow, List<String> deny) {
        return new NetworkSpec(true, allow, deny);
    }
}

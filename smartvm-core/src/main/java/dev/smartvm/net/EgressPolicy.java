package dev.smartvm.net;

import java.util.List;

/**
 * What a VM may reach. With an allow-list, everything else is dropped; without one, everything
 * not denied is allowed. Either way link-local addresses (169.254.0.0/16, cloud metadata), the
 * host itself and other VMs are denied unless a rule allows them explicitly.
 */
public record EgressPolicy(List<EgressRule> allow, List<EgressRule> deny) {
    public static final EgressPolicy OPEN = new EgressPolicy(List.of(), List.of());

    public EgressPolicy {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
    }

    /** Checks every rule's form without resolving names (see {@link EgressRule#check}). */
    public static void check(List<String> allow, List<String> deny) {
        allow.forEach(EgressRule::check);
        deny.forEach(EgressRule::check);
    }

    /** Parses (and resolves) every rule; the first bad one is refused before anything is set up. */
    public static EgressPolicy parse(List<String> allow, List<String> deny) {
        return new EgressPolicy(allow.stream().map(EgressRule::parse).toList(), deny.stream().map(EgressRule::parse).toList());
    }
}

package dev.smartvm.internal.net;

import dev.smartvm.NameResolver;
import java.util.List;
import java.util.function.UnaryOperator;

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
        return parse(allow, deny, NameResolver.system());
    }

    /** Parses every rule, resolving hostnames with {@code resolver}. */
    public static EgressPolicy parse(List<String> allow, List<String> deny, NameResolver resolver) {
        return new EgressPolicy(allow.stream().map(t -> EgressRule.parse(t, resolver)).toList(),
                deny.stream().map(t -> EgressRule.parse(t, resolver)).toList());
    }

    /** Every rule, the allow-list's first. */
    public List<EgressRule> rules() {
        return java.util.stream.Stream.concat(allow.stream(), deny.stream()).toList();
    }

    /** Whether some rule names a host, whose addresses may change. */
    public boolean hasHostnames() {
        return rules().stream().anyMatch(r -> r.host() != null);
    }

    /** The same policy with {@code change} applied to every rule. */
    EgressPolicy map(UnaryOperator<EgressRule> change) {
        return new EgressPolicy(allow.stream().map(change).toList(), deny.stream().map(change).toList());
    }
}

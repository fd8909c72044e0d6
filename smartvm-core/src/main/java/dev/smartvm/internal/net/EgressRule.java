package dev.smartvm.internal.net;

import dev.smartvm.ErrorCode;
import dev.smartvm.NameResolver;
import dev.smartvm.SmartVmException;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One destination of an egress policy: {@code CIDR}, {@code IP} or {@code HOST}, each with an
 * optional {@code :PORT}. Hostnames are resolved on the host, and the addresses are pinned: the
 * guest cannot widen the rule through DNS. The host resolves them again when their TTL ends
 * (see {@link HostnamePins}).
 *
 * @param text what the user wrote
 * @param host the hostname, or null for a CIDR or an IP
 * @param cidrs the IPv4 networks it stands for ({@code a.b.c.d/n})
 * @param port a TCP/UDP port, or 0 for every port
 * @param ttl how long a hostname's addresses hold, or null for a CIDR or an IP
 */
public record EgressRule(String text, String host, List<String> cidrs, int port, Duration ttl) {
    private static final Pattern FORM = Pattern.compile("([^:\\s]+?)(?::(\\d{1,5}))?");
    private static final Pattern CIDR = Pattern.compile("(\\d{1,3}(?:\\.\\d{1,3}){3})(?:/(\\d{1,2}))?");
    private static final Pattern HOST = Pattern.compile("(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
            + "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

    public EgressRule {
        cidrs = List.copyOf(cidrs);
    }

    /** What a rule says before any name is resolved: a CIDR, or a hostname, and a port. */
    private record Parsed(String text, String cidr, String host, int port) {
    }

    /**
     * Checks a rule's form only (no name is resolved): what a VM's spec, read again from disk
     * long after, can always pass.
     */
    public static void check(String text) {
        syntax(text);
    }

    /** Whether a (well-formed) rule names a host rather than an address or network; no name is resolved. */
    public static boolean namesHost(String text) {
        return syntax(text).host() != null;
    }

    /** Parses one rule without resolving it: a hostname's rule has no addresses (for engines that resolve names themselves). */
    public static EgressRule parseUnresolved(String text) {
        Parsed p = syntax(text);
        return new EgressRule(text, p.host(), p.cidr() == null ? List.of() : List.of(p.cidr()), p.port(), null);
    }

    /** Parses one rule, resolving a hostname with the host's resolver. */
    public static EgressRule parse(String text) {
        return parse(text, NameResolver.system());
    }

    /**
     * Parses one rule and resolves its hostname with {@code resolver}; a malformed CIDR, port or
     * hostname, or a name that does not resolve, is refused (INVALID_ARGUMENT; DNS_FAILED when
     * no DNS server answered).
     */
    public static EgressRule parse(String text, NameResolver resolver) {
        Parsed p = syntax(text);
        if (p.cidr() != null) {
            return new EgressRule(text, null, List.of(p.cidr()), p.port(), null);
        }
        NameResolver.Resolution r;
        try {
            r = resolver.resolve(p.host());
        } catch (SmartVmException e) {
            if (e.code() == ErrorCode.INVALID_ARGUMENT) {
                throw invalid(text, e.getMessage());
            }
            throw new SmartVmException(e.code(), "egress rule '" + text + "': " + e.getMessage(), e);
        }
        return new EgressRule(text, p.host(), List.of(), p.port(), r.ttl()).withAddresses(r.addresses());
    }

    /** The same rule with a hostname's new addresses (as /32 networks). */
    public EgressRule withAddresses(List<String> addresses) {
        return new EgressRule(text, host, addresses.stream().map(a -> a + "/32").toList(), port, ttl);
    }

    /** The same rule with a hostname's new TTL. */
    public EgressRule withTtl(Duration next) {
        return new EgressRule(text, host, cidrs, port, next);
    }

    private static Parsed syntax(String text) {
        Matcher m = text == null ? null : FORM.matcher(text.strip());
        if (m == null || !m.matches()) {
            throw invalid(text, "write CIDR, IP or HOST, each with an optional :PORT");
        }
        int port = 0;
        if (m.group(2) != null) {
            port = Integer.parseInt(m.group(2));
            if (port < 1 || port > 65535) {
                throw invalid(text, "port " + port + " is not between 1 and 65535");
            }
        }
        String target = m.group(1);
        Matcher c = CIDR.matcher(target);
        if (c.matches()) {
            long ip;
            try {
                ip = Subnet.parseAddress(c.group(1));
            } catch (SmartVmException e) {
                throw invalid(text, "'" + c.group(1) + "' is not an IPv4 address");
            }
            int prefix = c.group(2) == null ? 32 : Integer.parseInt(c.group(2));
            if (prefix > 32) {
                throw invalid(text, "/" + prefix + " is not a prefix length");
            }
            long mask = prefix == 0 ? 0 : (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
            return new Parsed(text, Subnet.format(ip & mask) + "/" + prefix, null, port);
        }
        if (target.matches("[0-9.]+") || !HOST.matcher(target).matches()) {
            throw invalid(text, "'" + target + "' is neither an IPv4 address, a CIDR nor a hostname");
        }
        return new Parsed(text, null, target, port);
    }

    private static SmartVmException invalid(String text, String why) {
        return new SmartVmException(ErrorCode.INVALID_ARGUMENT, "invalid egress rule '" + text + "': " + why);
    }
}

package dev.smartvm.net;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One destination of an egress policy: {@code CIDR}, {@code IP} or {@code HOST}, each with an
 * optional {@code :PORT}. Hostnames are resolved on the host when the rule is made, and the
 * addresses are pinned (the guest cannot widen the rule through DNS).
 *
 * @param text what the user wrote
 * @param cidrs the IPv4 networks it stands for ({@code a.b.c.d/n})
 * @param port a TCP/UDP port, or 0 for every port
 */
public record EgressRule(String text, List<String> cidrs, int port) {
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

    /** Parses and resolves one rule; a malformed CIDR, port or hostname, or a name that does not resolve, is refused. */
    public static EgressRule parse(String text) {
        Parsed p = syntax(text);
        if (p.cidr() != null) {
            return new EgressRule(text, List.of(p.cidr()), p.port());
        }
        List<String> addresses = new ArrayList<>();
        try {
            for (InetAddress a : InetAddress.getAllByName(p.host())) {
                if (a instanceof Inet4Address) {
                    addresses.add(a.getHostAddress() + "/32");
                }
            }
        } catch (UnknownHostException e) {
            throw invalid(text, "the host cannot resolve '" + p.host() + "'");
        }
        if (addresses.isEmpty()) {
            throw invalid(text, "'" + p.host() + "' has no IPv4 address");
        }
        return new EgressRule(text, addresses.stream().distinct().sorted().toList(), p.port());
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

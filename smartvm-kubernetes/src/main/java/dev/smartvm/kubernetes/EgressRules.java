package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A VM's egress rules ({@code CIDR|IP|HOST[:PORT]}) as a NetworkPolicy can say them: CIDRs, and an
 * optional port (TCP and UDP). A hostname is resolved once, when the policy is made, and pinned to
 * its addresses: a NetworkPolicy has no hostnames (following DNS needs a DNS-aware policy engine,
 * such as Cilium's FQDN policies).
 */
final class EgressRules {
    /** One rule: the CIDRs it names, and its port (0: every port). */
    record Rule(String text, List<String> cidrs, int port) {
    }

    private EgressRules() {
    }

    static List<Rule> parse(List<String> rules, Function<String, List<InetAddress>> resolver) {
        List<Rule> out = new ArrayList<>();
        for (String rule : rules) {
            out.add(parse(rule, resolver));
        }
        return out;
    }

    static Rule parse(String rule, Function<String, List<InetAddress>> resolver) {
        String target = rule.strip();
        int port = 0;
        int colon = target.lastIndexOf(':');
        if (colon > 0 && target.indexOf(':') == colon) { // one colon: HOST:PORT (an IPv6 address has several)
            String p = target.substring(colon + 1);
            if (!p.matches("\\d{1,5}") || Integer.parseInt(p) < 1 || Integer.parseInt(p) > 65535) {
                throw invalid(rule, "the port must be 1 to 65535");
            }
            port = Integer.parseInt(p);
            target = target.substring(0, colon);
        }
        if (target.isEmpty()) {
            throw invalid(rule, "no address");
        }
        if (target.matches("[0-9.]+(/\\d{1,2})?") || target.contains(":")) {
            return new Rule(rule, List.of(cidr(rule, target)), port);
        }
        if (!target.matches("[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\\.?")) {
            throw invalid(rule, "neither a CIDR, an address nor a hostname");
        }
        List<String> pinned = new ArrayList<>();
        for (InetAddress a : resolver.apply(target)) {
            pinned.add(a.getHostAddress() + (a instanceof Inet4Address ? "/32" : "/128"));
        }
        if (pinned.isEmpty()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "egress rule '" + rule + "': " + target
                    + " has no address");
        }
        return new Rule(rule, List.copyOf(pinned), port);
    }

    /** The system resolver, as a rule's hostname is resolved. */
    static List<InetAddress> resolve(String host) {
        try {
            return List.of(InetAddress.getAllByName(host));
        } catch (UnknownHostException e) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "egress rule host " + host + " does not resolve: "
                    + e.getMessage(), e);
        }
    }

    /** {@code 10.0.0.0/8}, or an address as a /32 (/128): checked and normalized. */
    static String cidr(String rule, String text) {
        String[] parts = text.split("/", 2);
        InetAddress address;
        try {
            if (!parts[0].matches("[0-9.]+|[0-9A-Fa-f:.]+")) {
                throw invalid(rule, "not an address");
            }
            address = InetAddress.getByName(parts[0]); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw invalid(rule, "not an address");
        }
        int max = address instanceof Inet4Address ? 32 : 128;
        int bits = max;
        if (parts.length == 2) {
            if (!parts[1].matches("\\d{1,3}") || Integer.parseInt(parts[1]) > max) {
                throw invalid(rule, "the prefix length must be 0 to " + max);
            }
            bits = Integer.parseInt(parts[1]);
        }
        byte[] b = address.getAddress();
        for (int i = 0; i < b.length; i++) { // the network address: host bits cleared
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            b[i] = (byte) (b[i] & (0xff << (8 - keep)));
        }
        try {
            return InetAddress.getByAddress(b).getHostAddress() + "/" + bits;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether CIDR {@code inner} lies within CIDR {@code outer} (both normalized, of one family). */
    static boolean contains(String outer, String inner) {
        String[] o = outer.split("/");
        String[] i = inner.split("/");
        byte[] ob = literal(o[0]);
        byte[] ib = literal(i[0]);
        int obits = Integer.parseInt(o[1]);
        if (ob.length != ib.length || Integer.parseInt(i[1]) < obits) {
            return false;
        }
        for (int k = 0; k < ob.length; k++) {
            int keep = Math.max(0, Math.min(8, obits - k * 8));
            int mask = (0xff << (8 - keep)) & 0xff;
            if ((ob[k] & mask) != (ib[k] & mask)) {
                return false;
            }
        }
        return true;
    }

    private static byte[] literal(String address) {
        try {
            return InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(address, e);
        }
    }

    private static SmartVmException invalid(String rule, String why) {
        return new SmartVmException(ErrorCode.INVALID_ARGUMENT, "egress rule '" + rule + "': " + why
                + " (a rule is CIDR, IP or HOST, with an optional :PORT)");
    }
}

package dev.smartvm.internal.net;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An IPv4 subnet for VMs: the network address, its prefix, the gateway (the first address) and
 * the guest addresses (the rest, up to but not including the broadcast address). A CIDR that
 * names a host inside the network ({@code 10.20.30.17/29}) is normalised to the network.
 *
 * @param network the network address as an unsigned 32-bit value
 * @param prefix the prefix length, 8 to 30
 */
public record Subnet(long network, int prefix) {
    private static final String OCTET = "(0|[1-9][0-9]{0,2})";
    private static final Pattern ADDRESS = Pattern.compile(OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET);
    private static final Pattern CIDR = Pattern.compile(ADDRESS.pattern() + "/([0-9]{1,2})");

    /** Parses {@code a.b.c.d/n}; anything else (spaces, empty or hex octets, /31, /32) is INVALID_SUBNET. */
    public static Subnet parse(String cidr) {
        Matcher m = cidr == null ? null : CIDR.matcher(cidr);
        if (m == null || !m.matches()) {
            throw invalid(cidr, "it is not a.b.c.d/n with decimal octets");
        }
        long ip = octets(m, cidr);
        int prefix = Integer.parseInt(m.group(5));
        if (prefix > 30) {
            throw invalid(cidr, "/" + prefix + " leaves no room for a gateway and a guest (at most /30)");
        }
        if (prefix < 8) {
            throw invalid(cidr, "/" + prefix + " is larger than any VM network needs (at least /8)");
        }
        long mask = mask(prefix);
        return new Subnet(ip & mask, prefix);
    }

    private static long octets(Matcher m, String text) {
        long ip = 0;
        for (int i = 1; i <= 4; i++) {
            int octet = Integer.parseInt(m.group(i));
            if (octet > 255) {
                throw invalid(text, "octet " + octet + " is over 255");
            }
            ip = ip << 8 | octet;
        }
        return ip;
    }

    private static long mask(int prefix) {
        return (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
    }

    private static SmartVmException invalid(String cidr, String why) {
        return new SmartVmException(ErrorCode.INVALID_SUBNET, "invalid subnet '" + cidr + "': " + why);
    }

    public String gateway() {
        return format(network + 1);
    }

    /** The first and last addresses a guest may have. */
    long firstGuest() {
        return network + 2;
    }

    long lastGuest() {
        return network + (1L << (32 - prefix)) - 2;
    }

    /** How many guests fit. */
    public long guestCapacity() {
        return lastGuest() - firstGuest() + 1;
    }

    public String netmask() {
        return format(mask(prefix));
    }

    public boolean contains(String ip) {
        long v = parseAddress(ip);
        return (v & mask(prefix)) == network;
    }

    static String format(long v) {
        return (v >> 24 & 255) + "." + (v >> 16 & 255) + "." + (v >> 8 & 255) + "." + (v & 255);
    }

    /** An IPv4 address as an unsigned 32-bit value (INVALID_SUBNET when malformed). */
    static long parseAddress(String ip) {
        Matcher m = ip == null ? null : ADDRESS.matcher(ip);
        if (m == null || !m.matches()) {
            throw invalid(ip, "it is not an IPv4 address");
        }
        return octets(m, ip);
    }

    @Override
    public String toString() {
        return format(network) + "/" + prefix;
    }
}

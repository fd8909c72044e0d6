package dev.smartvm.internal.net;

import dev.smartvm.ErrorCode;
import dev.smartvm.NameResolver;
import dev.smartvm.SmartVmException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A {@link NameResolver} on dnsjava: A records with their TTLs, never from a cache (each call
 * asks the server again), and the hosts file first unless a server is given.
 */
public final class DnsResolver implements NameResolver {
    public static final DnsResolver SYSTEM = new DnsResolver(null);
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final InetSocketAddress server;

    private DnsResolver(InetSocketAddress server) {
        this.server = server;
    }

    /** Asks only {@code server} (no hosts file, no search domains). */
    public static DnsResolver using(InetSocketAddress server) {
        return new DnsResolver(server);
    }

    @Override
    public Resolution resolve(String host) {
        Lookup lookup;
        try {
            lookup = new Lookup(server == null ? Name.fromString(host) : Name.fromString(host, Name.root), Type.A);
        } catch (TextParseException e) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "'" + host + "' is not a hostname: " + e.getMessage(), e);
        }
        lookup.setCache(null); // a private, throw-away cache: the TTL is what the server says now
        if (server != null) {
            Resolver r = new SimpleResolver(server);
            r.setTimeout(TIMEOUT);
            lookup.setResolver(r);
            lookup.setSearchPath((Name[]) null);
            lookup.setHostsFileParser(null);
        } else {
            lookup.setResolver(withTimeout(Lookup.getDefaultResolver()));
        }
        org.xbill.DNS.Record[] answers = lookup.run();
        switch (lookup.getResult()) {
            case Lookup.SUCCESSFUL -> {
                List<String> addresses = new ArrayList<>();
                long ttl = Long.MAX_VALUE;
                for (org.xbill.DNS.Record r : answers) {
                    if (r instanceof ARecord a) {
                        addresses.add(a.getAddress().getHostAddress());
                        ttl = Math.min(ttl, r.getTTL());
                    }
                }
                if (!addresses.isEmpty()) {
                    return new Resolution(addresses, Duration.ofSeconds(ttl));
                }
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "'" + host + "' has no IPv4 address");
            }
            case Lookup.TYPE_NOT_FOUND -> throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "'" + host + "' has no IPv4 address");
            case Lookup.HOST_NOT_FOUND -> throw new SmartVmException(ErrorCode.INVALID_ARGUMENT,
                    "the host cannot resolve '" + host + "'");
            default -> throw new SmartVmException(ErrorCode.DNS_FAILED, "no DNS server answered for '" + host + "' ("
                    + lookup.getErrorString() + ")");
        }
    }

    private static Resolver withTimeout(Resolver r) {
        r.setTimeout(TIMEOUT);
        return r;
    }
}

package dev.smartvm;

import java.time.Duration;
import java.util.List;

/**
 * Resolves the hostnames of egress rules on the host: to IPv4 addresses, and how long the
 * answer holds (its DNS TTL), after which SmartVM asks again.
 */
public interface NameResolver {
    /**
     * @throws dev.smartvm.SmartVmException INVALID_ARGUMENT when the name does not exist or has no
     *     IPv4 address, DNS_FAILED when no DNS server answered
     */
    Resolution resolve(String host);

    /**
     * @param addresses IPv4 addresses, sorted, never empty
     * @param ttl how long they hold (zero for the hosts file, which may change at any time)
     */
    record Resolution(List<String> addresses, Duration ttl) {
        public Resolution {
            addresses = addresses.stream().distinct().sorted().toList();
        }
    }

    /** The host's resolver: the hosts file, then the DNS servers of /etc/resolv.conf. */
    static NameResolver system() {
        return dev.smartvm.internal.net.DnsResolver.SYSTEM;
    }
}

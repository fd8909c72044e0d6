package dev.smartvm.internal.net;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.spi.PortForward;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A published port: connections (TCP) or datagrams (UDP) to {@code address:hostPort} on the
 * host reach the guest's {@code guestPort}. {@code HOST:GUEST} binds 127.0.0.1;
 * {@code ADDR:HOST:GUEST} another host address ({@code 0.0.0.0} for all of them); a
 * {@code /udp} or {@code /tcp} suffix picks the protocol (TCP unless said).
 */
public record PortMapping(String address, int hostPort, int guestPort, String protocol) {
    private static final Pattern FORM = Pattern.compile("(?:(\\d{1,3}(?:\\.\\d{1,3}){3}):)?(\\d{1,5}):(\\d{1,5})(?:/(tcp|udp))?");

    public static PortMapping parse(String text) {
        Matcher m = text == null ? null : FORM.matcher(text.strip());
        if (m == null || !m.matches()) {
            throw invalid(text, "write [ADDRESS:]HOST_PORT:GUEST_PORT, optionally followed by /tcp or /udp");
        }
        String address = m.group(1) == null ? "127.0.0.1" : m.group(1);
        try {
            Subnet.parseAddress(address);
        } catch (SmartVmException e) {
            throw invalid(text, "'" + address + "' is not an IPv4 address");
        }
        int host = Integer.parseInt(m.group(2));
        int guest = Integer.parseInt(m.group(3));
        for (int p : new int[] {host, guest}) {
            if (p < 1 || p > 65535) {
                throw invalid(text, "port " + p + " is not between 1 and 65535");
            }
        }
        return new PortMapping(address, host, guest, m.group(4) == null ? "tcp" : m.group(4));
    }

    /** The forward an engine sets up for it. */
    public PortForward forward() {
        return new PortForward(address, hostPort, guestPort, protocol);
    }

    public boolean loopback() {
        return address.startsWith("127.");
    }

    public boolean anyAddress() {
        return address.equals("0.0.0.0");
    }

    /** Whether this and {@code other} claim the same host port: one protocol, and one address or every address. */
    boolean clashesWith(PortMapping other) {
        return hostPort == other.hostPort && protocol.equals(other.protocol)
                && (address.equals(other.address) || anyAddress() || other.anyAddress());
    }

    /** How the host side is written in {@code ports.json} and messages: {@code ADDR:PORT/PROTO}. */
    String hostSide() {
        return address + ":" + hostPort + "/" + protocol;
    }

    /** Reads back {@link #hostSide} (an entry without a protocol is TCP). */
    static PortMapping fromHostSide(String text) {
        String[] protoSplit = text.split("/");
        String[] addrPort = protoSplit[0].split(":");
        return new PortMapping(addrPort[0], Integer.parseInt(addrPort[1]), 0, protoSplit.length > 1 ? protoSplit[1] : "tcp");
    }

    private static SmartVmException invalid(String text, String why) {
        return new SmartVmException(ErrorCode.INVALID_ARGUMENT, "invalid published port '" + text + "': " + why);
    }
}

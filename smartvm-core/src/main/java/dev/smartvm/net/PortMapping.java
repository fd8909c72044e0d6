package dev.smartvm.net;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A published port: TCP connections to {@code address:hostPort} on the host reach the guest's
 * {@code guestPort}. {@code HOST:GUEST} binds 127.0.0.1; {@code ADDR:HOST:GUEST} another host
 * address ({@code 0.0.0.0} for all of them).
 */
public record PortMapping(String address, int hostPort, int guestPort) {
    private static final Pattern FORM = Pattern.compile("(?:(\\d{1,3}(?:\\.\\d{1,3}){3}):)?(\\d{1,5}):(\\d{1,5})");

    public static PortMapping parse(String text) {
        Matcher m = text == null ? null : FORM.matcher(text.strip());
        if (m == null || !m.matches()) {
            throw invalid(text, "write HOST_PORT:GUEST_PORT or ADDRESS:HOST_PORT:GUEST_PORT");
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
        return new PortMapping(address, host, guest);
    }

    boolean loopback() {
        return address.startsWith("127.");
    }

    boolean anyAddress() {
        return address.equals("0.0.0.0");
    }

    private static SmartVmException invalid(String text, String why) {
        return new SmartVmException(ErrorCode.INVALID_ARGUMENT, "invalid published port '" + text + "': " + why);
    }
}

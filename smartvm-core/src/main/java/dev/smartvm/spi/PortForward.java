package dev.smartvm.spi;

/**
 * A host port an engine forwards into the guest (QEMU's user-mode network): connections (TCP)
 * or datagrams (UDP) to {@code address:hostPort} reach the guest's {@code guestPort}.
 *
 * @param protocol {@code tcp} or {@code udp}
 */
public record PortForward(String address, int hostPort, int guestPort, String protocol) {
}

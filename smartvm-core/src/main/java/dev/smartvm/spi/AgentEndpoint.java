package dev.smartvm.spi;

import java.nio.file.Path;
import java.util.List;

/**
 * Where the host reaches a VM's guest agent.
 *
 * @param sockets the Unix sockets the VMM serves. With QEMU each is a virtio port of its own,
 *     one byte stream to the agent that one host process at a time may use (it claims the port
 *     for as long as its connection lives), so that as many processes as there are ports can use
 *     the VM at once. With Firecracker there is one, and each connection is a stream of its own.
 * @param hybridVsockPort 0 when the sockets carry the agent's byte stream themselves (QEMU's
 *     virtio-serial chardevs); otherwise the guest vsock port to ask for with Firecracker's
 *     {@code CONNECT <port>} handshake
 */
public record AgentEndpoint(List<Path> sockets, int hybridVsockPort) {
    public AgentEndpoint {
        sockets = List.copyOf(sockets);
        if (sockets.isEmpty()) {
            throw new IllegalArgumentException("an agent endpoint needs a socket");
        }
        if (hybridVsockPort < 0) {
            throw new IllegalArgumentException("vsock port must not be negative: " + hybridVsockPort);
        }
    }

    /** Virtio ports, each a stream of its own for one host process at a time. */
    public static AgentEndpoint ports(List<Path> sockets) {
        return new AgentEndpoint(sockets, 0);
    }

    public static AgentEndpoint direct(Path socket) {
        return new AgentEndpoint(List.of(socket), 0);
    }

    public static AgentEndpoint hybridVsock(Path socket, int port) {
        return new AgentEndpoint(List.of(socket), port);
    }

    /** The first socket: the only one of a hybrid vsock endpoint. */
    public Path socket() {
        return sockets.get(0);
    }
}

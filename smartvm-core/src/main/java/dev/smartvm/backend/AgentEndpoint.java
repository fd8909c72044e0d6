package dev.smartvm.backend;

import java.nio.file.Path;

/**
 * Where the host reaches a VM's guest agent.
 *
 * @param socket the Unix socket the VMM serves
 * @param hybridVsockPort 0 when the socket carries the agent's byte stream itself (QEMU's
 *     virtio-serial chardev); otherwise the guest vsock port to ask for with Firecracker's
 *     {@code CONNECT <port>} handshake
 */
public record AgentEndpoint(Path socket, int hybridVsockPort) {
    public AgentEndpoint {
        if (hybridVsockPort < 0) {
            throw new IllegalArgumentException("vsock port must not be negative: " + hybridVsockPort);
        }
    }

    public static AgentEndpoint direct(Path socket) {
        return new AgentEndpoint(socket, 0);
    }

    public static AgentEndpoint hybridVsock(Path socket, int port) {
        return new AgentEndpoint(socket, port);
    }
}

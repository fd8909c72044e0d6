package dev.smartvm.internal.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host side of Firecracker's hybrid vsock handshake against a socket that behaves like Firecracker's. */
@SuppressWarnings("try") // the fake server is held open for the block
class HybridVsockTest {
    @TempDir
    Path dir;

    /** Answers the n-th connection with {@code replies[n]}: null closes it unanswered (nobody listens in the guest). */
    private ServerSocketChannel firecracker(Path socket, List<String> requests, String... replies) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().start(() -> {
            for (int i = 0; ; i++) {
                try (SocketChannel ch = server.accept()) {
                    ByteBuffer in = ByteBuffer.allocate(64);
                    while (in.position() == 0 || in.get(in.position() - 1) != '\n') {
                        ch.read(in);
                    }
                    requests.add(new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII));
                    String reply = replies[Math.min(i, replies.length - 1)];
                    if (reply == null) {
                        continue;
                    }
                    ch.write(ByteBuffer.wrap(reply.getBytes(StandardCharsets.US_ASCII)));
                    ByteBuffer echo = ByteBuffer.allocate(5);
                    while (echo.hasRemaining() && ch.read(echo) >= 0) {
                    }
                    ch.write(echo.flip());
                    Thread.sleep(200);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        });
        return server;
    }

    @Test
    void retriesUntilTheGuestListensAndKeepsTheBytesAfterTheReply() throws IOException {
        Path socket = dir.resolve("v.sock");
        List<String> requests = new CopyOnWriteArrayList<>();
        try (ServerSocketChannel server = firecracker(socket, requests, null, null, "OK 1073741824\nHELLO")) {
            try (SocketChannel ch = HybridVsock.connect(socket, 1024, System.nanoTime() + TimeUnit.SECONDS.toNanos(10))) {
                ByteBuffer first = ByteBuffer.allocate(5);
                while (first.hasRemaining()) {
                    ch.read(first);
                }
                assertThat(new String(first.array(), StandardCharsets.US_ASCII)).isEqualTo("HELLO");
                ch.write(ByteBuffer.wrap("world".getBytes(StandardCharsets.US_ASCII)));
                ByteBuffer echo = ByteBuffer.allocate(5);
                while (echo.hasRemaining()) {
                    ch.read(echo);
                }
                assertThat(new String(echo.array(), StandardCharsets.US_ASCII)).isEqualTo("world");
            }
            assertThat(requests).hasSize(3).allMatch(r -> r.equals("CONNECT 1024\n"));
        }
    }

    @Test
    void givesUpAtTheDeadlineSayingWhy() throws IOException {
        Path socket = dir.resolve("v.sock");
        try (ServerSocketChannel server = firecracker(socket, new CopyOnWriteArrayList<>(), (String) null)) {
            assertThatThrownBy(() -> HybridVsock.connect(socket, 52, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300)))
                    .isInstanceOf(SmartVmException.class)
                    .hasMessageContaining("vsock port 52")
                    .hasMessageContaining("not listening")
                    .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.TIMEOUT);
        }
    }

    @Test
    void aRefusalOtherThanOkIsReported() throws IOException {
        Path socket = dir.resolve("v.sock");
        try (ServerSocketChannel server = firecracker(socket, new CopyOnWriteArrayList<>(), "ERR no such port\n")) {
            assertThatThrownBy(() -> HybridVsock.connect(socket, 7, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300)))
                    .hasMessageContaining("Firecracker answered 'ERR no such port'");
        }
    }
}

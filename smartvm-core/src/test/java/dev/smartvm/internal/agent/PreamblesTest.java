package dev.smartvm.internal.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A preamble the agent never saw (a guest just restored drops the first bytes of its new host
 * with the old session) is sent again with a new nonce; only the HELLO with the latest nonce
 * counts, and once it came no preamble follows.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PreamblesTest {
    @TempDir
    Path dir;

    @Test
    void aLostPreambleIsSentAgainAndOnlyTheLatestAnswerCounts() throws Exception {
        Path socket = dir.resolve("agent.sock");
        CompletableFuture<Integer> afterHandshake = new CompletableFuture<>();
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread.ofPlatform().daemon().start(() -> {
                try (SocketChannel ch = server.accept()) {
                    DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
                    DataOutputStream out = new DataOutputStream(Channels.newOutputStream(ch));
                    byte[] first = in.readNBytes(28); // dropped, as a restored guest may
                    byte[] second = in.readNBytes(28);
                    assertThat(Arrays.copyOfRange(second, 0, 8)).isEqualTo(FrameType.MAGIC);
                    assertThat(Arrays.copyOfRange(second, 8, 24)).as("a new nonce").isNotEqualTo(Arrays.copyOfRange(first, 8, 24));
                    hello(out, Arrays.copyOfRange(first, 8, 24)); // a late answer to the first: skipped
                    hello(out, Arrays.copyOfRange(second, 8, 24));
                    int len = in.readInt();
                    int id = in.readInt();
                    int type = in.readUnsignedByte();
                    afterHandshake.complete(type);
                    byte[] payload = in.readNBytes(len);
                    out.writeInt(payload.length);
                    out.writeInt(id);
                    out.writeByte(FrameType.PONG);
                    out.write(payload);
                    out.flush();
                    in.read(); // until the host closes
                } catch (Exception e) {
                    afterHandshake.completeExceptionally(e);
                }
            });
            try (AgentClient client = new AgentClient(AgentConnection.open(socket, 0, Duration.ofSeconds(10), "preambles-test",
                    reason -> new SmartVmException(ErrorCode.AGENT_PROTOCOL, reason)))) {
                assertThat(client.ping(Duration.ofSeconds(5))).isNotNull();
                assertThat(afterHandshake.get(5, TimeUnit.SECONDS)).as("a frame, not a third preamble")
                        .isEqualTo(FrameType.PING);
            }
        }
    }

    private static void hello(DataOutputStream out, byte[] nonce) throws Exception {
        PayloadWriter w = new PayloadWriter();
        for (byte b : nonce) {
            w.u8(b & 0xff);
        }
        byte[] payload = w.u32(FrameType.VERSION).u32(256 * 1024).u32(1024 * 1024).str("test agent").toByteArray();
        out.writeInt(payload.length);
        out.writeInt(0);
        out.writeByte(FrameType.HELLO);
        out.write(payload);
        out.flush();
    }
}

package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;

/** A scripted, misbehaving guest agent on a Unix socket: the host must survive whatever it sends. */
final class FakeGuest implements AutoCloseable {
    /** Answers one request frame from the host. */
    interface Script {
        void onRequest(int id, int type, byte[] payload, Sender out) throws IOException;
    }

    /** Writes raw frames to the host. */
    static final class Sender {
        private final DataOutputStream out;

        Sender(DataOutputStream out) {
            this.out = out;
        }

        void frame(int id, int type, byte[] payload) throws IOException {
            rawHeader(payload.length, id, type);
            out.write(payload);
            out.flush();
        }

        void rawHeader(int length, int id, int type) throws IOException {
            out.writeInt(length);
            out.writeInt(id);
            out.writeByte(type);
            out.flush();
        }

        void entry(int id, int kind, int mode, long size, String rel, String link) throws IOException {
            frame(id, FrameType.ENTRY, new PayloadWriter().u8(kind).u32(mode).u64(size).str(rel).str(link).toByteArray());
        }
    }

    private final ServerSocketChannel server;
    private final Path socket;
    private final Thread thread;

    FakeGuest(Path socket, byte[] garbageBeforeHello, Script script) throws IOException {
        this.socket = socket;
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        thread = Thread.ofPlatform().daemon().start(() -> serve(garbageBeforeHello, script));
    }

    private void serve(byte[] garbage, Script script) {
        try (SocketChannel ch = server.accept()) {
            DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
            DataOutputStream out = new DataOutputStream(Channels.newOutputStream(ch));
            byte[] preamble = in.readNBytes(28);
            byte[] nonce = java.util.Arrays.copyOfRange(preamble, 8, 24);
            out.write(garbage);
            Sender sender = new Sender(out);
            sender.frame(0, FrameType.HELLO, hello(nonce));
            while (true) {
                int len = in.readInt();
                int id = in.readInt();
                int type = in.readUnsignedByte();
                byte[] payload = in.readNBytes(len);
                script.onRequest(id, type, payload, sender);
            }
        } catch (IOException e) {
            // the host closed the connection: the test is over
        }
    }

    private static byte[] hello(byte[] nonce) {
        PayloadWriter w = new PayloadWriter();
        for (byte b : nonce) {
            w.u8(b & 0xff);
        }
        return w.u32(FrameType.VERSION).u32(256 * 1024).u32(1024 * 1024).str("fake guest").toByteArray();
    }

    AgentClient connect() {
        return new AgentClient(AgentConnection.open(socket, 0, Duration.ofSeconds(10), "fake-guest-reader",
                reason -> new SmartVmException(ErrorCode.AGENT_PROTOCOL, reason)));
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

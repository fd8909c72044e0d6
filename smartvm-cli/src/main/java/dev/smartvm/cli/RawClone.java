package dev.smartvm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * The floor of a template clone, for {@code smartvm bench --snapshots}: the very QEMU command
 * line SmartVM runs for a clone (its plan), driven by hand: the same QMP sequence
 * (capabilities, {@code x-ignore-shared}, {@code migrate-incoming}, polls, {@code cont}), the
 * agent's handshake and one exec of {@code true}, with nothing of SmartVM in between.
 */
final class RawClone {
    private static final SecureRandom RANDOM = new SecureRandom();

    private RawClone() {
    }

    /**
     * Runs {@code commandLine} (a clone's, its console on fd 3) in {@code dir}; returns the
     * milliseconds until {@code true} exited in the guest.
     */
    static double run(List<String> commandLine, Path dir, Path state) throws IOException, InterruptedException {
        Path qmpSocket = socketOf(commandLine, "socket,id=qmp,path=");
        Path agentSocket = socketOf(commandLine, "socket,id=agent,path=");
        List<String> argv = new ArrayList<>(List.of("sh", "-c", "exec \"$@\" 3>\"$0\"", dir.resolve("console").toString()));
        argv.addAll(commandLine);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
        try {
            try (SocketChannel qmp = connect(qmpSocket)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(qmp), StandardCharsets.UTF_8));
                in.readLine(); // the greeting
                qmp(qmp, in, "{\"execute\":\"qmp_capabilities\"}");
                qmp(qmp, in, "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":"
                        + "[{\"capability\":\"x-ignore-shared\",\"state\":true}]}}");
                qmp(qmp, in, "{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"exec:cat '" + state + "'\"}}");
                while (!qmp(qmp, in, "{\"execute\":\"query-migrate\"}").path("status").asText().equals("completed")) {
                    Thread.sleep(1);
                }
                qmp(qmp, in, "{\"execute\":\"cont\"}");
            }
            try (SocketChannel agent = connect(agentSocket)) {
                handshake(agent);
                execTrue(agent);
            }
            return (System.nanoTime() - t0) / 1e6;
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    /** The socket a chardev option of {@code argv} starting with {@code prefix} serves. */
    static Path socketOf(List<String> argv, String prefix) throws IOException {
        return argv.stream().filter(a -> a.startsWith(prefix)).map(a -> Path.of(a.substring(prefix.length(), a.indexOf(",server"))))
                .findFirst().orElseThrow(() -> new IOException("the plan has no " + prefix + " socket: " + argv));
    }

    private static SocketChannel connect(Path socket) throws IOException, InterruptedException {
        for (int i = 0; i < 30_000; i++) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return ch;
            } catch (IOException e) {
                ch.close();
                Thread.sleep(1);
            }
        }
        throw new IOException("no socket " + socket);
    }

    private static JsonNode qmp(SocketChannel ch, BufferedReader in, String command) throws IOException {
        ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("QEMU closed QMP after " + command);
            }
            JsonNode reply = CliJson.MAPPER.readTree(line);
            if (reply.has("error")) {
                throw new IOException("QMP " + command + ": " + reply.get("error"));
            }
            if (reply.has("return")) {
                return reply.get("return");
            }
        }
    }

    /** The preamble, sent again with a new nonce every 100 ms until the HELLO that echoes the latest comes. */
    private static void handshake(SocketChannel ch) throws IOException {
        ByteBuffer seen = ByteBuffer.allocate(1 << 16);
        int at = -1;
        ch.configureBlocking(false);
        try (Selector readable = Selector.open()) { // waits for the agent's bytes or the next resend, not spinning
            ch.register(readable, SelectionKey.OP_READ);
            byte[] nonce = null;
            long resendAt = 0;
            while (at < 0) {
                if (System.nanoTime() >= resendAt) {
                    nonce = new byte[16];
                    RANDOM.nextBytes(nonce);
                    ch.write(ByteBuffer.wrap(ByteBuffer.allocate(28).put("SMVMHELO".getBytes(StandardCharsets.US_ASCII))
                            .put(nonce).putInt(1).array()));
                    resendAt = System.nanoTime() + 100_000_000L;
                }
                readable.select(Math.max(1, (resendAt - System.nanoTime()) / 1_000_000));
                readable.selectedKeys().clear();
                if (ch.read(seen) < 0) {
                    throw new IOException("the agent closed the connection");
                }
                at = indexOf(seen, nonce);
            }
        }
        ch.configureBlocking(true);
        // HELLO: nonce, version, max payload, window, then the agent's version string
        ByteBuffer rest = seen.duplicate().flip().position(at + 16);
        ByteBuffer more = ByteBuffer.allocate(16 + 256).put(rest);
        while (more.position() < 16) {
            ch.read(more);
        }
        int strLen = more.getInt(12);
        while (more.position() < 16 + strLen) {
            ch.read(more);
        }
    }

    /** Where {@code needle} starts in what {@code buf} holds so far, or -1 (ISO-8859-1 maps each byte to one char). */
    private static int indexOf(ByteBuffer buf, byte[] needle) {
        return new String(buf.array(), 0, buf.position(), StandardCharsets.ISO_8859_1)
                .indexOf(new String(needle, StandardCharsets.ISO_8859_1));
    }

    /** EXEC of {@code true} as request 1, then frames until its EXIT. */
    private static void execTrue(SocketChannel ch) throws IOException {
        byte[] word = "true".getBytes(StandardCharsets.UTF_8);
        ByteBuffer payload = ByteBuffer.allocate(4 * 4 + 4 + 4 + 4 + word.length + 4)
                .putInt(0).putInt(-1).putInt(-1).putInt(0).putInt(0).putInt(1).putInt(word.length).put(word).putInt(0);
        ByteBuffer frame = ByteBuffer.allocate(9 + payload.capacity()).putInt(payload.capacity()).putInt(1).put((byte) 0x01)
                .put(payload.array());
        ch.write(frame.flip());
        ByteBuffer header = ByteBuffer.allocate(9);
        while (true) {
            header.clear();
            readFully(ch, header);
            int length = header.getInt(0);
            int type = header.get(8) & 0xff;
            readFully(ch, ByteBuffer.allocate(length));
            if (type == 0x85 && header.getInt(4) == 1) {
                return;
            }
            if (type == 0x87) {
                throw new IOException("the agent refused the exec");
            }
        }
    }

    private static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("the agent closed the connection");
            }
        }
    }

    /** Removes what a run left in {@code dir} (console, log, sockets). */
    static void clean(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}

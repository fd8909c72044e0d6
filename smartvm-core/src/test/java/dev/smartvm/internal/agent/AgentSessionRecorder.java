package dev.smartvm.internal.agent;

import dev.smartvm.ExecProcess;
import dev.smartvm.ExecRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Records what a real host sends a real agent: the seed corpus of the agent's fuzz target. The
 * real {@link AgentClient} talks to the real agent binary ({@code --listen}) through a proxy
 * that copies each connection's host-to-guest bytes to a file of its own in the corpus
 * directory: execs (with stdin, signals, timeouts, another user), copies both ways, pings.
 */
public final class AgentSessionRecorder implements AutoCloseable {
    private final ServerSocketChannel proxy;
    private final Path agentSocket;
    private final Path corpus;
    private final Path proxySocket;
    private int sessions;

    private AgentSessionRecorder(Path agentSocket, Path proxySocket, Path corpus) throws IOException {
        this.agentSocket = agentSocket;
        this.proxySocket = proxySocket;
        this.corpus = corpus;
        proxy = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        proxy.bind(UnixDomainSocketAddress.of(proxySocket));
        Thread.ofVirtual().start(this::serve);
    }

    private void serve() {
        try {
            while (true) {
                SocketChannel host = proxy.accept();
                // the agent may still be starting (its socket not there yet): wait for it, as a host would
                SocketChannel guest = dev.smartvm.internal.io.UnixSockets.connect(agentSocket,
                        System.nanoTime() + Duration.ofSeconds(10).toNanos(), () -> true);
                Path file = corpus.resolve("session-" + (++sessions));
                Thread.ofVirtual().start(() -> pump(Channels.newInputStream(host), Channels.newOutputStream(guest), file));
                Thread.ofVirtual().start(() -> pump(Channels.newInputStream(guest), Channels.newOutputStream(host), null));
            }
        } catch (IOException e) {
            // closed: the recording is over
        }
    }

    private static void pump(InputStream in, OutputStream out, Path record) {
        try (in; out; OutputStream copy = record == null ? OutputStream.nullOutputStream() : Files.newOutputStream(record)) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                copy.write(buf, 0, n);
            }
        } catch (IOException e) {
            // one side went away
        }
    }

    private AgentClient connect() {
        return new AgentClient(AgentConnection.open(proxySocket, 0, Duration.ofSeconds(10), "recorder",
                reason -> new dev.smartvm.SmartVmException(dev.smartvm.ErrorCode.AGENT_PROTOCOL, reason)));
    }

    /** Records the sessions into {@code corpus}, using {@code scratch} for the agent and the files it copies. */
    public static void record(Path scratch, Path corpus) throws Exception {
        Files.createDirectories(corpus);
        Map<String, String> path = Map.of("PATH", "/usr/bin:/bin");
        Path tree = Files.createDirectories(scratch.resolve("tree/dir"));
        Files.writeString(tree.resolve("f"), "content\n");
        Files.createSymbolicLink(tree.resolve("l"), Path.of("f"));
        try (ListeningAgent agent = new ListeningAgent(Files.createDirectories(scratch.resolve("agent")));
                AgentSessionRecorder recorder = new AgentSessionRecorder(agent.socket(), scratch.resolve("proxy.sock"), corpus)) {
            try (AgentClient c = recorder.connect()) {
                c.run(new ExecRequest(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), path, "/tmp", null, null, -1));
                c.run(new ExecRequest(List.of("cat"), path, null, Duration.ofSeconds(5), "input\n".getBytes(), -1));
                c.run(new ExecRequest(List.of("sleep", "5"), path, null, Duration.ofMillis(50), null, 65534));
                c.ping(Duration.ofSeconds(5));
            }
            try (AgentClient c = recorder.connect()) {
                try (ExecProcess p = c.start(new ExecRequest(List.of("cat"), path, null, null, null, -1), true, null, null)) {
                    p.stdin().write("interactive".getBytes());
                    p.signal(15);
                    p.waitFor(Duration.ofSeconds(5));
                }
                c.upload(tree.getParent(), scratch.resolve("uploaded").toString(), Duration.ofSeconds(10));
                c.download(tree.toString(), scratch.resolve("downloaded"), Duration.ofSeconds(10));
                c.download("/no/such/path", scratch.resolve("missing"), Duration.ofSeconds(10));
            } catch (dev.smartvm.SmartVmException expected) {
                // the missing path: its request is part of the corpus all the same
            }
            Thread.sleep(200); // the proxy's last bytes reach their files
        }
    }

    /** Arguments: a scratch directory, the corpus directory. */
    public static void main(String[] args) throws Exception {
        record(Path.of(args[0]), Path.of(args[1]));
    }

    @Override
    public void close() throws IOException {
        proxy.close();
    }
}

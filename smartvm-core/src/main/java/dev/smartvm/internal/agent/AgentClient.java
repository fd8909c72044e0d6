package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecProcess;
import dev.smartvm.ExecRequest;
import dev.smartvm.ExecResult;
import dev.smartvm.ExitStatus;
import dev.smartvm.GuestUsage;
import dev.smartvm.SmartVmException;
import dev.smartvm.TerminalSize;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** What the host can ask a guest agent: exec, copy in and out, ping, power off. */
public final class AgentClient implements AutoCloseable {
    /**
     * Collected output (stdout and stderr together) beyond this kills the command and is an
     * error (OUTPUT_TOO_LARGE): stream large output instead.
     */
    public static final long MAX_COLLECTED_OUTPUT = 64L * 1024 * 1024;
    private static final Duration NO_LIMIT = Duration.ofDays(3650);
    private static final int ENOSYS = 38; // an agent older than a request type answers it so
    /** A terminal exec's TERM when its environment has none. */
    static final String DEFAULT_TERM = "xterm-256color";

    private static final java.security.SecureRandom ENTROPY = new java.security.SecureRandom();
    private final AgentConnection connection;

    public AgentClient(AgentConnection connection) {
        this.connection = connection;
    }

    public AgentConnection connection() {
        return connection;
    }

    /**
     * Starts a command. Its output goes to the given sinks; pass null to get it as streams of
     * the returned process.
     */
    public ExecProcess start(ExecRequest request, boolean withStdin, OutputSink stdout, OutputSink stderr) {
        byte[] encoded = encode(request, withStdin || request.stdin() != null);
        if (encoded.length > connection.maxPayload()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the command's arguments, environment and"
                    + " working directory take " + encoded.length + " bytes; the guest agent accepts at most "
                    + connection.maxPayload() + " for one exec: pass large data on stdin or in a file");
        }
        ExecChannel channel = new ExecChannel(connection, stdout == null ? new PipeSink() : stdout,
                stderr == null ? new PipeSink() : stderr, withStdin || request.stdin() != null, request.pty() != null);
        channel.start(encoded, request.timeout());
        byte[] input = request.stdin();
        if (input != null) {
            feed(channel, input);
        }
        return channel;
    }

    /** Runs a command to its end and collects its output. */
    public ExecResult run(ExecRequest request) {
        long started = System.nanoTime();
        CollectedOutput output = new CollectedOutput(MAX_COLLECTED_OUTPUT);
        ExecProcess p = start(request, false, output.stdout(), output.stderr());
        output.killOnOverflow(p);
        try (p) {
            ExitStatus status = p.waitFor(NO_LIMIT);
            return new ExecResult(status, output.stdoutBytes(), output.stderrBytes(),
                    Duration.ofNanos(System.nanoTime() - started));
        }
    }

    /** Stdin bytes of a request are written by a helper thread so a large input cannot stall the caller. */
    private static void feed(ExecChannel channel, byte[] input) {
        Thread.ofVirtual().name("smartvm-stdin").start(() -> {
            try (OutputStream in = channel.stdin()) {
                in.write(input);
            } catch (IOException | SmartVmException e) {
                // The command ended or the VM went away; the exec itself reports that.
            }
        });
    }

    static byte[] encode(ExecRequest request, boolean withStdin) {
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> e : request.env().entrySet()) {
            env.add(e.getKey() + "=" + e.getValue());
        }
        TerminalSize pty = request.pty();
        if (pty != null && !request.env().containsKey("TERM")) {
            env.add("TERM=" + DEFAULT_TERM);
        }
        long timeoutMs = request.timeout() == null ? 0 : Math.max(1, request.timeout().toMillis());
        if (timeoutMs > 0xffffffffL) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "timeout " + request.timeout() + " is too long");
        }
        PayloadWriter w = new PayloadWriter()
                .u32((withStdin ? FrameType.EXEC_FLAG_STDIN : 0) | (pty != null ? FrameType.EXEC_FLAG_PTY : 0))
                .u32(request.uid())
                .u32(request.uid())
                .u32(timeoutMs)
                .str(request.workdir() == null ? "" : request.workdir())
                .strs(request.command())
                .strs(env);
        if (pty != null) {
            w.u32(pty.columns()).u32(pty.rows());
        }
        return w.toByteArray();
    }

    /**
     * Copies a host file or directory into the guest, like {@code cp -r}: into {@code guestPath}
     * when it is an existing directory, else to that path. Returns the bytes copied.
     */
    public long upload(Path source, String guestPath, Duration timeout) {
        requireAbsolute(guestPath);
        return new TreeUpload(connection).run(source, guestPath, timeout);
    }

    /**
     * Copies a guest file or directory to the host, like {@code cp -r}: into {@code target}
     * when it is an existing directory, else to that path. Returns the bytes copied.
     */
    public long download(String guestPath, Path target, Duration timeout) {
        requireAbsolute(guestPath);
        Path dest = target;
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            String name = Path.of(guestPath).normalize().getFileName() == null ? "root"
                    : Path.of(guestPath).normalize().getFileName().toString();
            dest = target.resolve(name);
        }
        return new TreeDownload(connection, dest).run(guestPath, timeout);
    }

    static void requireAbsolute(String guestPath) {
        if (guestPath == null || !guestPath.startsWith("/") || guestPath.indexOf('\0') >= 0) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT,
                    "a guest path must be absolute; found '" + guestPath + "'");
        }
    }

    /** A round trip through the agent; returns its duration. */
    public Duration ping(Duration timeout) {
        long t0 = System.nanoTime();
        request(FrameType.PING, new byte[0], timeout, "a ping of the guest agent");
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /**
     * The guest's memory and how long it has been idle (USAGE); empty from an agent older than
     * USAGE, which answers ENOSYS. Asking is not activity.
     */
    public Optional<GuestUsage> usage(Duration timeout) {
        Reply reply = request(FrameType.USAGE, new byte[0], timeout, "the guest agent's usage");
        PayloadReader r = new PayloadReader(reply.payload());
        if (reply.type() == FrameType.ERROR) {
            int errno = r.u32();
            if (errno == ENOSYS) {
                return Optional.empty();
            }
            throw new SmartVmException(ErrorCode.AGENT_ERROR, "guest agent: " + r.str());
        }
        if (reply.type() != FrameType.USAGE_REPLY) {
            throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "the guest agent answered USAGE with frame type 0x"
                    + Integer.toHexString(reply.type()));
        }
        long total = r.u64();
        long available = r.u64();
        int active = r.u32();
        long idleMs = r.u64();
        return Optional.of(new GuestUsage(total, available, active, Duration.ofMillis(Math.max(0, idleMs))));
    }

    /**
     * Gives the guest the host's wall clock and fresh entropy (the agent reseeds the RNG with it),
     * as every new session starts: a guest restored from a snapshot resumes at the time it was
     * saved, with the RNG state it had then.
     */
    public void sync(Duration timeout) {
        Reply reply = request(FrameType.SYNC, syncPayload(), timeout, "the guest agent to take the host's clock");
        if (reply.type() != FrameType.OK) {
            PayloadReader r = new PayloadReader(reply.payload());
            r.u32();
            throw new SmartVmException(ErrorCode.AGENT_ERROR, "guest agent: " + r.str());
        }
    }

    /**
     * {@link #sync} without waiting for its answer: the agent handles a session's frames in
     * order, so whatever is sent next sees the clock set. For a guest that resumes (a pause
     * stops its clock), where a round trip would be felt.
     */
    public void syncWithoutWaiting() {
        sendWithoutWaiting(FrameType.SYNC, syncPayload());
    }

    /**
     * Tells the guest who it is now: its VM id (in {@code /run/smartvm/vm-id}) and hostname, and
     * for a restored guest with a network ({@code mac} and {@code ipConfig} not null), its own MAC
     * and address ({@code ADDR::GATEWAY:NETMASK::DEV:off}): a clone runs its template's kernel,
     * and its network device has the template's MAC. Not waited for.
     */
    public void identify(String vmId, String hostname, String mac, String ipConfig) {
        sendWithoutWaiting(FrameType.IDENTIFY, new PayloadWriter().str(vmId).str(hostname)
                .str(mac == null ? "" : mac).str(ipConfig == null ? "" : ipConfig).toByteArray());
    }

    /** A one-frame request whose answer is not waited for (an error changes nothing the next request would not show). */
    private void sendWithoutWaiting(int type, byte[] payload) {
        int[] id = new int[1];
        id[0] = connection.register(new StreamHandler() {
            @Override
            public void onFrame(int replyType, byte[] replyPayload) {
                connection.unregister(id[0]);
            }

            @Override
            public void onClosed(SmartVmException cause) {
                // the session's next request reports it
            }
        });
        connection.sendQuietly(id[0], type, payload);
    }

    private static byte[] syncPayload() {
        Instant now = Instant.now();
        byte[] entropy = new byte[64];
        ENTROPY.nextBytes(entropy);
        PayloadWriter w = new PayloadWriter().u64(now.getEpochSecond()).u32(now.getNano());
        for (byte b : entropy) {
            w.u8(b & 0xff);
        }
        return w.toByteArray();
    }

    /** The one frame that answers a request of its own. */
    record Reply(int type, byte[] payload) {
    }

    /** Sends a one-frame request and waits for the one frame that answers it. */
    Reply request(int type, byte[] payload, Duration timeout, String what) {
        CompletableFuture<Reply> answer = new CompletableFuture<>();
        int id = connection.register(new StreamHandler() {
            @Override
            public void onFrame(int replyType, byte[] replyPayload) {
                answer.complete(new Reply(replyType, replyPayload));
            }

            @Override
            public void onClosed(SmartVmException cause) {
                answer.completeExceptionally(cause);
            }
        });
        try {
            connection.send(id, type, payload);
            return Await.result(answer, timeout, what);
        } finally {
            connection.unregister(id);
        }
    }

    /** Asks the agent to kill everything, sync and power the guest off. Does not wait for the VMM. */
    public void shutdown() {
        connection.sendQuietly(0, FrameType.SHUTDOWN, new byte[0]);
    }

    @Override
    public void close() {
        connection.close();
    }

    /** Closes the connection; requests still running fail with {@code reason}. */
    public void close(SmartVmException reason) {
        connection.close(reason);
    }
}

package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Timers;
import dev.smartvm.internal.io.UnixSockets;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * One byte stream to a guest agent, multiplexing many requests. One reader thread dispatches
 * frames by request id; writers serialize whole frames under a lock. The guest is untrusted:
 * frame sizes and per-stream windows are enforced, and any violation closes the connection.
 */
public final class AgentConnection implements AutoCloseable {
    private static final ScheduledThreadPoolExecutor TIMER = Timers.daemon("smartvm-agent-timer");

    /** The byte stream: read through {@link #in} by one reader, written a whole frame at a time. */
    private final GatheringByteChannel channel;
    private final DataInputStream in;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Map<Integer, StreamHandler> streams = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final Function<String, SmartVmException> breakage;
    private final Runnable released;
    private volatile SmartVmException failure;
    private int maxPayload;
    private int window;
    private String agentVersion;
    private Thread reader;

    private AgentConnection(SocketChannel channel, Function<String, SmartVmException> breakage, Runnable released) {
        this(channel, channel, breakage, released);
    }

    private AgentConnection(ReadableByteChannel source, GatheringByteChannel sink, Function<String, SmartVmException> breakage,
            Runnable released) {
        this.channel = sink;
        this.released = released;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(source), 256 * 1024));
        this.breakage = breakage;
    }

    /**
     * Connects to the agent's socket and completes the handshake. The socket may not exist yet
     * (the VMM is starting): connecting is retried until the deadline.
     *
     * @param hybridVsockPort 0 when the socket carries the agent's stream directly (QEMU), else
     *     the guest's vsock port behind Firecracker's hybrid vsock socket
     * @param breakage turns a low-level reason into the exception callers see when the
     *     connection breaks (the VM layer adds why the VM stopped)
     */
    public static AgentConnection open(Path socket, int hybridVsockPort, Duration timeout, String threadName,
            Function<String, SmartVmException> breakage) {
        return open(socket, hybridVsockPort, timeout, threadName, breakage, () -> { });
    }

    /**
     * The same, running {@code released} once the connection has ended (failed, or closed), or
     * at once when it cannot be opened: for what is held as long as the connection lives.
     */
    public static AgentConnection open(Path socket, int hybridVsockPort, Duration timeout, String threadName,
            Function<String, SmartVmException> breakage, Runnable released) {
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel ch;
        try {
            ch = hybridVsockPort > 0 ? HybridVsock.connect(socket, hybridVsockPort, deadline) : connect(socket, deadline);
        } catch (RuntimeException e) {
            released.run();
            throw e;
        }
        AgentConnection c = new AgentConnection(ch, breakage, released);
        long remaining = Math.max(1, deadline - System.nanoTime());
        ScheduledFuture<?> watchdog = TIMER.schedule(c::closeChannel, remaining, TimeUnit.NANOSECONDS);
        try {
            c.handshake();
        } catch (IOException e) {
            c.closeChannel();
            released.run();
            if (watchdog.isDone()) {
                throw new SmartVmException(ErrorCode.TIMEOUT,
                        "the guest agent did not answer within " + timeout.toMillis() + " ms", e);
            }
            throw breakage.apply("the agent connection closed during the handshake: " + e.getMessage());
        } catch (RuntimeException e) {
            c.closeChannel();
            released.run();
            throw e;
        } finally {
            watchdog.cancel(false);
        }
        c.reader = Thread.ofPlatform().daemon().name(threadName).start(c::readLoop);
        return c;
    }

    private static SocketChannel connect(Path socket, long deadline) {
        try {
            return UnixSockets.connect(socket, deadline, () -> true);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.TIMEOUT, "cannot connect to the agent socket " + socket + ": " + e.getMessage(), e);
        }
    }

    /**
     * Sends the preamble and reads the agent's HELLO. A preamble can be lost: a guest just
     * restored from a snapshot may see its port's host leave (the saved host) after the new
     * host's first bytes arrived, and drop them with the old session. So until the HELLO comes,
     * the preamble is sent again with a new nonce, at growing intervals; the agent answers each
     * (a preamble starts a new session), and only the HELLO carrying the latest nonce counts.
     */
    private void handshake() throws IOException {
        Preambles resender = new Preambles(channel, TIMER);
        resender.start();
        try {
            // Bytes left over from an earlier host, and answers to earlier preambles, may come first: skip to our nonce.
            byte[] tail = new byte[FrameType.NONCE_LENGTH];
            long skipped = 0;
            while (!resender.matches(tail)) {
                System.arraycopy(tail, 1, tail, 0, tail.length - 1);
                tail[tail.length - 1] = in.readByte();
                if (++skipped > 16L * 1024 * 1024) {
                    throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "no handshake answer in 16 MiB of agent output");
                }
            }
        } finally {
            resender.stop();
        }
        int version = in.readInt();
        maxPayload = in.readInt();
        window = in.readInt();
        int n = in.readInt();
        if (version != FrameType.VERSION) {
            throw new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                    "the guest agent speaks protocol " + version + "; this host speaks " + FrameType.VERSION
                    + ": the image or template was made by another SmartVM version; build it again with this one");
        }
        if (maxPayload < FrameType.CHUNK || maxPayload > 16 * 1024 * 1024 || window < FrameType.CHUNK
                || window > 64 * 1024 * 1024 || n < 0 || n > 256) {
            throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "implausible handshake: max payload "
                    + maxPayload + ", window " + window + ", version string of " + n + " bytes");
        }
        agentVersion = new String(in.readNBytes(n), java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * A connection whose handshake is taken as done, reading {@code source} only when the caller
     * runs {@link #readUntilEnd()} on its own thread: for feeding the decoder arbitrary guest
     * output (the fuzz tests).
     */
    static AgentConnection overStreams(ReadableByteChannel source, GatheringByteChannel sink, int maxPayload, int window) {
        AgentConnection c = new AgentConnection(source, sink, reason -> new SmartVmException(ErrorCode.AGENT_PROTOCOL, reason),
                () -> { });
        c.maxPayload = maxPayload;
        c.window = window;
        return c;
    }

    /** Reads and dispatches frames on this thread until the stream ends or breaks the protocol. */
    void readUntilEnd() {
        readLoop();
    }

    public String agentVersion() {
        return agentVersion;
    }

    int window() {
        return window;
    }

    int maxPayload() {
        return maxPayload;
    }

    int register(StreamHandler handler) {
        int id;
        do {
            id = ids.incrementAndGet() & 0x7fffffff;
        } while (id == 0 || streams.putIfAbsent(id, handler) != null);
        SmartVmException broken = failure;
        if (broken != null) {
            streams.remove(id);
            throw broken;
        }
        return id;
    }

    void unregister(int id) {
        streams.remove(id);
    }

    void send(int id, int type, byte[] payload) {
        send(id, type, payload, 0, payload.length);
    }

    /** Runs {@code task} on the connection's timer after {@code delay}. */
    ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        return TIMER.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** How many tasks wait on the timer of every connection (for tests). */
    static int scheduledTasks() {
        return TIMER.getQueue().size();
    }

    void send(int id, int type, byte[] payload, int offset, int length) {
        if (length > maxPayload) { // the agent would take it for garbage and drop the whole session
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a request of " + length
                    + " bytes is larger than the " + maxPayload + " bytes the guest agent accepts in one frame");
        }
        ByteBuffer header = ByteBuffer.allocate(FrameType.HEADER_LENGTH);
        header.putInt(length).putInt(id).put((byte) type).flip();
        ByteBuffer[] frame = {header, ByteBuffer.wrap(payload, offset, length)};
        writeLock.lock();
        try {
            SmartVmException broken = failure;
            if (broken != null) {
                throw broken;
            }
            // One gathering write: the guest gets header and payload together, not in two wake-ups.
            while (frame[0].hasRemaining() || frame[1].hasRemaining()) {
                channel.write(frame);
            }
        } catch (IOException e) {
            throw fail(e.getMessage() == null ? e.toString() : e.getMessage());
        } finally {
            writeLock.unlock();
        }
    }

    /** Sends where a failure is reported elsewhere (window updates, kills). */
    void sendQuietly(int id, int type, byte[] payload) {
        try {
            send(id, type, payload);
        } catch (SmartVmException e) {
            // The stream's handler learns of the broken connection through onClosed.
        }
    }

    private void readLoop() {
        try {
            while (true) {
                int length = in.readInt();
                int id = in.readInt();
                int type = in.readUnsignedByte();
                if (length < 0 || length > maxPayload) {
                    throw new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                            "frame of " + Integer.toUnsignedString(length) + " bytes; the limit is " + maxPayload);
                }
                byte[] payload = in.readNBytes(length);
                if (payload.length != length) {
                    throw new EOFException("the stream ended inside a frame");
                }
                dispatch(id, type, payload);
            }
        } catch (EOFException e) {
            fail("the guest agent closed the connection");
        } catch (IOException e) {
            fail(failure != null ? failure.getMessage() : "agent connection failed: " + e.getMessage());
        } catch (SmartVmException e) {
            failWith(e);
        } catch (RuntimeException e) {
            failWith(new SmartVmException(ErrorCode.AGENT_PROTOCOL, "cannot handle agent frame: " + e, e));
        }
    }

    private void dispatch(int id, int type, byte[] payload) {
        if (id == 0) {
            if (type == FrameType.ERROR) {
                PayloadReader r = new PayloadReader(payload);
                r.u32();
                throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "the guest agent reported: " + r.str());
            }
            StreamHandler h = streams.get(0);
            if (h != null) {
                h.onFrame(type, payload);
            }
            return;
        }
        StreamHandler handler = streams.get(id);
        if (handler != null) {
            try {
                handler.onFrame(type, payload);
            } catch (RuntimeException e) {
                // the connection fails next; a handler that had already let go of its id must still learn why
                handler.onClosed(e instanceof SmartVmException s ? s
                        : new SmartVmException(ErrorCode.AGENT_PROTOCOL, "cannot handle agent frame: " + e, e));
                throw e;
            }
        }
    }

    private SmartVmException fail(String reason) {
        return failWith(breakage.apply(reason));
    }

    private synchronized SmartVmException failWith(SmartVmException cause) {
        if (failure == null) {
            failure = cause;
            closeChannel();
            for (StreamHandler h : streams.values()) {
                h.onClosed(cause);
            }
            streams.clear();
            released.run();
        }
        return failure;
    }

    /** Whether the connection still works. */
    public boolean isOpen() {
        return failure == null && channel.isOpen();
    }

    private void closeChannel() {
        closeQuietly(channel);
    }

    private static void closeQuietly(java.nio.channels.Channel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing: nothing left to do
            }
        }
    }

    @Override
    public void close() {
        close(new SmartVmException(ErrorCode.INVALID_STATE, "the agent connection was closed"));
    }

    /** Closes the connection; requests still running fail with {@code reason}. Idempotent. */
    public void close(SmartVmException reason) {
        failWith(reason);
        Thread r = reader;
        if (r != null && r != Thread.currentThread()) {
            try {
                r.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecProcess;
import dev.smartvm.ExitStatus;
import dev.smartvm.SmartVmException;
import dev.smartvm.TerminalSize;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * One exec request: routes its frames to the output sinks and carries stdin and signals. An
 * exec with a timeout also has a deadline on the host, {@link #HOST_GRACE} after the guest's:
 * a guest too busy (or too hostile) to report its own timeout cannot hold the caller longer.
 */
final class ExecChannel implements StreamHandler, ExecProcess {
    static final int SIGKILL = 9;
    /** How long after the guest's timeout the host gives up on the exec and reports 124 itself. */
    static final Duration HOST_GRACE = Duration.ofSeconds(5);

    private final AgentConnection connection;
    private final OutputSink stdout;
    private final OutputSink stderr;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final CompletableFuture<Integer> pid = new CompletableFuture<>();
    private final SendWindow stdinWindow;
    private final StdinStream stdin;
    private final boolean terminal;
    private volatile boolean discarding;
    private int id;
    private ReceiveWindow receive;
    private ScheduledFuture<?> deadline;
    private boolean finished;

    ExecChannel(AgentConnection connection, OutputSink stdout, OutputSink stderr, boolean withStdin, boolean terminal) {
        this.connection = connection;
        this.terminal = terminal;
        this.stdout = stdout;
        this.stderr = stderr;
        this.stdinWindow = new SendWindow(connection.window());
        this.stdin = withStdin ? new StdinStream() : null;
    }

    /** Sends the request; {@code timeout} is the guest's (null: none, and no host deadline either). */
    void start(byte[] request, Duration timeout) {
        id = connection.register(this);
        receive = new ReceiveWindow(connection, id);
        try {
            connection.send(id, FrameType.EXEC, request);
        } catch (RuntimeException e) {
            connection.unregister(id);
            throw e;
        }
        if (timeout != null) {
            // on a thread of its own: the kill is a write, which must not stall the timer of every connection
            ScheduledFuture<?> d = connection.schedule(() -> Thread.ofVirtual().name("smartvm-exec-deadline").start(this::expire),
                    timeout.plus(HOST_GRACE));
            synchronized (this) {
                deadline = d;
            }
            if (exit.isDone()) {
                d.cancel(false);
            }
        }
    }

    /**
     * The host's deadline passed without an EXIT: the command is killed (if the guest still
     * listens), its remaining output dropped, and the exec ends as a timeout, like the guest's own.
     */
    private void expire() {
        if (exit.isDone()) {
            return;
        }
        discarding = true;
        signal(SIGKILL);
        finish(new ExitStatus(124, 0, true));
    }

    private synchronized void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel(false);
        }
    }

    /** Ends the exec once, whether by the guest's EXIT or by the host's deadline. */
    private void finish(ExitStatus status) {
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
        }
        cancelDeadline();
        connection.unregister(id);
        stdout.end();
        stderr.end();
        stdinWindow.fail(new SmartVmException(ErrorCode.INVALID_STATE, "the command has ended"));
        pid.complete(-1);
        exit.complete(status);
    }

    @Override
    public void onFrame(int type, byte[] payload) {
        switch (type) {
            case FrameType.STARTED -> pid.complete(new PayloadReader(payload).u32());
            case FrameType.STDOUT -> deliver(stdout, payload);
            case FrameType.STDERR -> deliver(stderr, payload);
            case FrameType.WINDOW -> stdinWindow.grant(Integer.toUnsignedLong(new PayloadReader(payload).u32()));
            case FrameType.EXIT -> {
                PayloadReader r = new PayloadReader(payload);
                finish(new ExitStatus(r.u32(), r.u32(), r.u8() != 0));
            }
            case FrameType.ERROR -> {
                PayloadReader r = new PayloadReader(payload);
                r.u32();
                String message = r.str(); // decoded before anything changes: a malformed one fails the whole connection
                connection.unregister(id);
                onClosed(new SmartVmException(ErrorCode.AGENT_ERROR, "guest agent: " + message));
            }
            default -> throw new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                    "unexpected frame type 0x" + Integer.toHexString(type) + " for an exec");
        }
    }

    private void deliver(OutputSink sink, byte[] payload) {
        receive.received(payload.length);
        Runnable consumed = () -> receive.consumed(payload.length);
        if (discarding) {
            consumed.run();
        } else {
            sink.accept(payload, consumed);
        }
    }

    @Override
    public void onClosed(SmartVmException cause) {
        cancelDeadline();
        stdout.fail(cause);
        stderr.fail(cause);
        stdinWindow.fail(cause);
        pid.completeExceptionally(cause);
        exit.completeExceptionally(cause);
    }

    /** The guest pid of the command once it started, -1 if it never did. */
    int awaitPid(Duration timeout) {
        return Await.result(pid, timeout, "the command to start");
    }

    @Override
    public OutputStream stdin() {
        if (stdin == null) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "this exec was started without stdin");
        }
        return stdin;
    }

    @Override
    public InputStream stdout() {
        if (stdout instanceof InputStream s) {
            return s;
        }
        throw new SmartVmException(ErrorCode.INVALID_STATE, "stdout of this exec goes elsewhere");
    }

    @Override
    public InputStream stderr() {
        if (stderr instanceof InputStream s) {
            return s;
        }
        throw new SmartVmException(ErrorCode.INVALID_STATE, "stderr of this exec goes elsewhere");
    }

    @Override
    public ExitStatus waitFor(Duration timeout) {
        return Await.result(exit, timeout, "the command");
    }

    boolean hasEnded() {
        return exit.isDone();
    }

    @Override
    public void signal(int signal) {
        if (!exit.isDone()) {
            connection.sendQuietly(id, FrameType.SIGNAL, new PayloadWriter().u32(signal).toByteArray());
        }
    }

    @Override
    public void resize(int columns, int rows) {
        TerminalSize size = new TerminalSize(columns, rows);
        if (!terminal) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "this exec has no terminal to resize (start it withPty)");
        }
        if (exit.isDone()) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "the command has ended; its terminal is gone");
        }
        connection.sendQuietly(id, FrameType.RESIZE, new PayloadWriter().u32(size.columns()).u32(size.rows()).toByteArray());
    }

    /** Kills the command if it runs; its remaining output is drained and dropped. */
    @Override
    public void close() {
        if (!exit.isDone()) {
            discarding = true;
            signal(SIGKILL);
        }
        if (stdout instanceof InputStream s) {
            closeQuietly(s);
        }
        if (stderr instanceof InputStream s) {
            closeQuietly(s);
        }
    }

    private static void closeQuietly(InputStream s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // a pipe sink's close does not fail
        }
    }

    /** Stdin as an OutputStream: writes wait for window credit; close sends EOF. */
    private final class StdinStream extends OutputStream {
        private boolean closed;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            if (closed) {
                throw new IOException("stdin is closed");
            }
            try {
                while (len > 0) {
                    int n = stdinWindow.take(Math.min(len, FrameType.CHUNK));
                    connection.send(id, FrameType.STDIN, b, off, n);
                    off += n;
                    len -= n;
                }
            } catch (SmartVmException e) {
                throw new IOException(e.getMessage(), e);
            }
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                if (!exit.isDone()) {
                    connection.sendQuietly(id, FrameType.STDIN, new byte[0]);
                }
            }
        }
    }
}

package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Timers;
import dev.smartvm.internal.io.UnixSockets;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The host side of Firecracker's hybrid vsock: connect to the VMM's Unix socket, send
 * {@code CONNECT <port>\n}, and read {@code OK <host port>\n}; the rest of the stream is the
 * guest's. Until the guest listens, Firecracker closes the connection instead of answering, so
 * the whole exchange is retried until the deadline.
 */
public final class HybridVsock {
    private static final int MAX_REPLY = 64;
    private static final String NO_ANSWER = "nothing answered";
    private static final long ATTEMPT_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final ScheduledThreadPoolExecutor TIMER = Timers.daemon("smartvm-vsock-timer");

    private HybridVsock() {
    }

    /** A connected stream to the guest's {@code port}, or TIMEOUT with the last refusal. */
    public static SocketChannel connect(Path socket, int port, long deadlineNanos) {
        if (port < 1) {
            throw new IllegalArgumentException("vsock port must be positive: " + port);
        }
        String last = NO_ANSWER;
        while (System.nanoTime() < deadlineNanos) {
            SocketChannel ch;
            try {
                ch = UnixSockets.connect(socket, deadlineNanos, () -> true);
            } catch (IOException e) {
                last = e.getMessage();
                break;
            }
            long attempt = Math.max(1, Math.min(ATTEMPT_NANOS, deadlineNanos - System.nanoTime()));
            AtomicBoolean fired = new AtomicBoolean(); // set before the close, so the failure it causes is known as ours
            ScheduledFuture<?> watchdog = TIMER.schedule(() -> {
                fired.set(true);
                closeQuietly(ch);
            }, attempt, TimeUnit.NANOSECONDS);
            try {
                write(ch, "CONNECT " + port + "\n");
                String reply = readLine(ch);
                if (reply.startsWith("OK ")) {
                    watchdog.cancel(false);
                    if (ch.isOpen()) {
                        return ch;
                    }
                }
                last = "Firecracker answered '" + reply + "'";
            } catch (IOException e) {
                if (!fired.get()) {
                    last = "the guest is not listening on vsock port " + port + " yet (" + e.getMessage() + ")";
                } else if (last.equals(NO_ANSWER)) {
                    last = "no answer to CONNECT " + port;
                }
            } finally {
                watchdog.cancel(false);
            }
            closeQuietly(ch);
            sleep();
        }
        throw new SmartVmException(ErrorCode.TIMEOUT, "cannot reach vsock port " + port + " through " + socket + ": " + last);
    }

    private static void write(SocketChannel ch, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads up to '\n' one byte at a time: nothing after the reply may be consumed here. */
    private static String readLine(SocketChannel ch) throws IOException {
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (line.length() < MAX_REPLY) {
            one.clear();
            if (ch.read(one) < 0) {
                throw new IOException("connection closed");
            }
            char c = (char) (one.get(0) & 0xff);
            if (c == '\n') {
                return line.toString();
            }
            line.append(c);
        }
        throw new IOException("reply longer than " + MAX_REPLY + " bytes");
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while connecting over vsock", e);
        }
    }
}

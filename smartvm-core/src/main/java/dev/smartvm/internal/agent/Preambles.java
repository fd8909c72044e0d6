package dev.smartvm.internal.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The host's side of the handshake: a preamble (magic, nonce, version), sent again with a new
 * nonce until the agent's HELLO carries the latest one; first after 100 ms, then twice as long
 * each time, up to a second. Once the answer matched, no preamble follows.
 */
final class Preambles implements Runnable {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration FIRST = Duration.ofMillis(100);
    private static final Duration MAX = Duration.ofSeconds(1);

    private final WritableByteChannel channel;
    private final ScheduledExecutorService timer;
    private byte[] nonce = new byte[FrameType.NONCE_LENGTH];
    private long delayNanos = FIRST.toNanos();
    private boolean stopped;
    private ScheduledFuture<?> next;

    Preambles(WritableByteChannel channel, ScheduledExecutorService timer) {
        this.channel = channel;
        this.timer = timer;
    }

    /** Sends the first preamble and schedules the next. */
    synchronized void start() throws IOException {
        send();
        next = timer.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void send() throws IOException {
        nonce = new byte[FrameType.NONCE_LENGTH];
        RANDOM.nextBytes(nonce);
        ByteBuffer preamble = ByteBuffer.allocate(FrameType.MAGIC.length + nonce.length + 4);
        preamble.put(FrameType.MAGIC).put(nonce).putInt(FrameType.VERSION);
        preamble.flip();
        while (preamble.hasRemaining()) {
            channel.write(preamble);
        }
    }

    /** Whether {@code tail} is the latest nonce; once it is, no preamble follows. */
    synchronized boolean matches(byte[] tail) {
        if (Arrays.equals(tail, nonce)) {
            stop();
            return true;
        }
        return false;
    }

    synchronized void stop() {
        stopped = true;
        if (next != null) {
            next.cancel(false);
        }
    }

    @Override
    public synchronized void run() {
        if (stopped) {
            return;
        }
        try {
            send();
        } catch (IOException e) {
            return; // the channel broke: the handshake's reader sees it
        }
        delayNanos = Math.min(delayNanos * 2, MAX.toNanos());
        next = timer.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
    }
}

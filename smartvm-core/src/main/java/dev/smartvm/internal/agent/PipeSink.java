package dev.smartvm.internal.agent;

import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;

/**
 * Guest output as an {@link InputStream}: chunks queue here (bounded by the stream's window)
 * and credit goes back to the guest as the application reads them.
 */
final class PipeSink extends InputStream implements OutputSink {
    private record Chunk(byte[] data, Runnable consumed) {
    }

    private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
    private int offset;
    private boolean ended;
    private boolean closed;
    private SmartVmException failure;

    @Override
    public synchronized void accept(byte[] chunk, Runnable consumed) {
        if (closed) {
            consumed.run();
            return;
        }
        chunks.add(new Chunk(chunk, consumed));
        notifyAll();
    }

    @Override
    public synchronized void end() {
        ended = true;
        notifyAll();
    }

    @Override
    public synchronized void fail(SmartVmException cause) {
        if (!ended) {
            failure = cause;
        }
        ended = true;
        notifyAll();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Runnable done = null;
        int n;
        synchronized (this) {
            if (len == 0) {
                return 0;
            }
            while (chunks.isEmpty() && !ended && !closed) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while reading guest output");
                }
            }
            if (closed) {
                throw new IOException("stream closed");
            }
            if (chunks.isEmpty()) {
                if (failure != null) {
                    throw new IOException(failure.getMessage(), failure);
                }
                return -1;
            }
            Chunk head = chunks.peek();
            n = Math.min(len, head.data().length - offset);
            System.arraycopy(head.data(), offset, b, off, n);
            offset += n;
            if (offset == head.data().length) {
                chunks.poll();
                offset = 0;
                done = head.consumed();
            }
        }
        if (done != null) {
            done.run();
        }
        return n;
    }

    @Override
    public synchronized int available() {
        return chunks.isEmpty() ? 0 : chunks.peek().data().length - offset;
    }

    @Override
    public void close() {
        ArrayDeque<Chunk> dropped;
        synchronized (this) {
            closed = true;
            dropped = new ArrayDeque<>(chunks);
            chunks.clear();
            notifyAll();
        }
        dropped.forEach(c -> c.consumed().run());
    }
}

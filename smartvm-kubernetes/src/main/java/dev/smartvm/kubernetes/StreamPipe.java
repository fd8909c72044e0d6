package dev.smartvm.kubernetes;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;

/**
 * A bounded pipe between the exec API's writer and a caller that reads: the writer blocks while
 * {@link #LIMIT} bytes wait (so a command's output is never held whole), the reader until bytes
 * come or the writing side is closed. Unlike {@link java.io.PipedInputStream}, it does not care
 * which threads write.
 */
final class StreamPipe {
    static final int LIMIT = 1 << 20;

    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private byte[] current;
    private int offset;
    private int buffered;
    private boolean sinkClosed;
    private boolean sourceClosed;

    private final OutputStream sink = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            put(java.util.Arrays.copyOfRange(b, off, off + len));
        }

        @Override
        public void close() {
            closeSink();
        }
    };

    private final InputStream source = new InputStream() {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return take(b, off, len);
        }

        @Override
        public void close() {
            synchronized (StreamPipe.this) {
                sourceClosed = true;
                chunks.clear();
                current = null;
                buffered = 0;
                StreamPipe.this.notifyAll();
            }
        }
    };

    OutputStream sink() {
        return sink;
    }

    InputStream source() {
        return source;
    }

    synchronized void closeSink() {
        sinkClosed = true;
        notifyAll();
    }

    private synchronized void put(byte[] data) throws IOException {
        if (data.length == 0 || sourceClosed) {
            return; // nobody reads any more: the output is dropped, the command goes on
        }
        try {
            while (buffered >= LIMIT && !sourceClosed) {
                wait();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the reader was behind");
        }
        if (sinkClosed) {
            throw new IOException("the pipe's writing side is closed");
        }
        chunks.add(data);
        buffered += data.length;
        notifyAll();
    }

    private synchronized int take(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        try {
            while ((current == null || offset == current.length) && chunks.isEmpty() && !sinkClosed && !sourceClosed) {
                wait();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for output");
        }
        if (current == null || offset == current.length) {
            current = chunks.poll();
            offset = 0;
            if (current == null) {
                return -1; // closed and drained
            }
        }
        int n = Math.min(len, current.length - offset);
        System.arraycopy(current, offset, b, off, n);
        offset += n;
        buffered -= n;
        notifyAll();
        return n;
    }
}

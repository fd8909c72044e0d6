package dev.smartvm.kubernetes;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A streamed exec's stdin as frames: the byte count in decimal and a newline, then those bytes;
 * {@code 0} and a newline is the end. The exec API of protocol v4 (what the client speaks) cannot
 * close stdin alone: closing it ends the whole exec and loses the exit status. So the
 * {@link PodGuest#WRAPPER} reads frames ({@code read} a count, {@code head -c} the bytes) and
 * gives the command a stdin that ends at the end frame, while the exec runs on.
 * Bytes are kept until {@link #flush} or until a frame's worth has come; {@link #close} sends the
 * end once and leaves the exec's stream open.
 */
final class FramedStdin extends OutputStream {
    /** The most one frame carries (one {@code head} process in the container per frame). */
    static final int MAX_FRAME = 256 * 1024;

    private final OutputStream exec;
    private final byte[] pending = new byte[MAX_FRAME];
    private int size;
    private boolean closed;

    FramedStdin(OutputStream exec) {
        this.exec = exec;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stdin is closed");
        }
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        while (len > 0) {
            int n = Math.min(len, pending.length - size);
            System.arraycopy(b, off, pending, size, n);
            size += n;
            off += n;
            len -= n;
            if (size == pending.length) {
                sendPending();
            }
        }
    }

    private void sendPending() throws IOException {
        if (size > 0) {
            exec.write((size + "\n").getBytes(StandardCharsets.US_ASCII));
            exec.write(pending, 0, size);
            size = 0;
        }
    }

    @Override
    public synchronized void flush() throws IOException {
        if (!closed) {
            sendPending();
            exec.flush();
        }
    }

    /** Sends what is kept and the end frame: the command reads the end of its stdin. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        sendPending();
        exec.write("0\n".getBytes(StandardCharsets.US_ASCII));
        exec.flush();
        closed = true;
    }
}

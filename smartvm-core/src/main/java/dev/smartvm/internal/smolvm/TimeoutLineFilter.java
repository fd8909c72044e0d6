package dev.smartvm.internal.smolvm;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * A streamed command's stderr without the line an image machine's agent adds at its end when the
 * command times out ({@code \ncommand timed out after Nms}, maybe with a newline): the command's
 * own stderr, as on the other engines. Bytes that could begin that line are held back until a
 * byte shows they do not, or the stream ends; everything else passes as it comes.
 */
final class TimeoutLineFilter extends FilterInputStream {
    private static final byte[] HEAD = "\ncommand timed out after ".getBytes(StandardCharsets.US_ASCII);
    private final ByteArrayOutputStream held = new ByteArrayOutputStream();
    private final ByteArrayOutputStream ready = new ByteArrayOutputStream();
    private byte[] out = new byte[0];
    private int outAt;
    private boolean ended;

    TimeoutLineFilter(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        byte[] chunk = new byte[Math.max(len, 256)];
        while (outAt >= out.length) {
            if (ended) {
                return -1;
            }
            int n = in.read(chunk, 0, chunk.length);
            if (n < 0) {
                ended = true;
                if (!isWholeLine(held.toByteArray())) {
                    ready.write(held.toByteArray());
                }
                held.reset();
            } else {
                for (int i = 0; i < n; i++) {
                    accept(chunk[i]);
                }
            }
            out = ready.toByteArray();
            outAt = 0;
            ready.reset();
        }
        int k = Math.min(len, out.length - outAt);
        System.arraycopy(out, outAt, b, off, k);
        outAt += k;
        return k;
    }

    @Override
    public int available() throws IOException {
        return out.length - outAt;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** Holds {@code b} while what is held could still be the line; releases what cannot. */
    private void accept(byte b) {
        held.write(b);
        byte[] h = held.toByteArray();
        while (h.length > 0 && !couldBeLine(h)) {
            int next = 1; // the line begins with a newline: release up to the next one held
            while (next < h.length && h[next] != '\n') {
                next++;
            }
            ready.write(h, 0, next);
            h = java.util.Arrays.copyOfRange(h, next, h.length);
        }
        held.reset();
        held.write(h, 0, h.length);
    }

    /** Whether {@code h} is a beginning of the line: its head, digits, "ms", a newline. */
    private static boolean couldBeLine(byte[] h) {
        int i = 0;
        for (; i < h.length && i < HEAD.length; i++) {
            if (h[i] != HEAD[i]) {
                return false;
            }
        }
        if (i == h.length) {
            return true;
        }
        int digits = 0;
        while (i < h.length && Character.isDigit(h[i])) {
            i++;
            digits++;
        }
        if (i == h.length) {
            return true;
        }
        String rest = new String(h, i, h.length - i, StandardCharsets.US_ASCII);
        return digits > 0 && "ms\n".startsWith(rest);
    }

    private static boolean isWholeLine(byte[] h) {
        String s = new String(h, StandardCharsets.US_ASCII);
        return s.matches("\ncommand timed out after \\d+ms\n?");
    }
}

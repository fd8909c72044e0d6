package dev.smartvm.internal.agent;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/** Encodes a frame payload: big-endian integers and u32-length-prefixed UTF-8 strings. */
final class PayloadWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PayloadWriter u8(int v) {
        out.write(v);
        return this;
    }

    PayloadWriter u32(long v) {
        out.write((int) (v >>> 24));
        out.write((int) (v >>> 16));
        out.write((int) (v >>> 8));
        out.write((int) v);
        return this;
    }

    PayloadWriter u64(long v) {
        return u32(v >>> 32).u32(v & 0xffffffffL);
    }

    PayloadWriter str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u32(b.length);
        out.writeBytes(b);
        return this;
    }

    PayloadWriter strs(Collection<String> values) {
        u32(values.size());
        values.forEach(this::str);
        return this;
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }
}

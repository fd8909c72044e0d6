package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Decodes a payload sent by the guest; anything malformed is an {@code AGENT_PROTOCOL} error. */
final class PayloadReader {
    private final ByteBuffer buf;

    PayloadReader(byte[] payload) {
        this.buf = ByteBuffer.wrap(payload);
    }

    int u8() {
        try {
            return buf.get() & 0xff;
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    int u32() {
        try {
            return buf.getInt();
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    long u64() {
        try {
            return buf.getLong();
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    String str() {
        int n = u32();
        if (n < 0 || n > buf.remaining()) {
            throw new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                    "string of " + Integer.toUnsignedString(n) + " bytes in a payload with "
                            + buf.remaining() + " left");
        }
        byte[] b = new byte[n];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /**
     * A string that must be valid UTF-8 (a file name): null when it is not, so that names which
     * differ only in undecodable bytes are never merged into one by replacement characters.
     */
    String strictStr() {
        int start = buf.position() + 4;
        str(); // checks the length and moves past the string
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(buf.duplicate().limit(buf.position()).position(start)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    byte[] bytes(int n) {
        if (n > buf.remaining()) {
            throw truncated();
        }
        byte[] b = new byte[n];
        buf.get(b);
        return b;
    }

    private static SmartVmException truncated() {
        return new SmartVmException(ErrorCode.AGENT_PROTOCOL, "truncated payload from the guest agent");
    }
}

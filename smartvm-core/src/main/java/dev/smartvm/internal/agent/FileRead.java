package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * One guest file into memory (READ): an ENTRY for a regular file no larger than the limit, its
 * DATA (no more than the ENTRY said), END. Anything else from the guest is a protocol error;
 * a file over the limit is cancelled in the guest.
 */
final class FileRead implements StreamHandler {
    private final AgentConnection connection;
    private final long limit;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private ReceiveWindow window;
    private ByteArrayOutputStream data;
    private long left;
    private int id;
    private String path;
    /** The guest sent END or ERROR: its request is over, nothing to cancel. */
    private volatile boolean guestEnded;

    FileRead(AgentConnection connection, long limit) {
        this.connection = connection;
        this.limit = limit;
    }

    byte[] run(String guestPath, Duration timeout) {
        path = guestPath;
        id = connection.register(this);
        window = new ReceiveWindow(connection, id);
        try {
            connection.send(id, FrameType.READ, new PayloadWriter().str(guestPath).toByteArray());
            return Await.result(result, timeout, "the read of " + guestPath);
        } finally {
            connection.unregister(id);
            if (!guestEnded) {
                connection.sendQuietly(id, FrameType.CANCEL, new byte[0]); // the guest stops sending
            }
        }
    }

    @Override
    public void onFrame(int type, byte[] payload) {
        if (type == FrameType.END || type == FrameType.ERROR) {
            guestEnded = true;
        }
        if (result.isDone()) {
            return; // refused as too large: what the guest sent before its CANCEL arrived is dropped
        }
        switch (type) {
            case FrameType.ENTRY -> {
                PayloadReader r = new PayloadReader(payload);
                int kind = r.u8();
                r.u32();
                long size = r.u64();
                String rel = r.str();
                if (data != null || kind != FrameType.ENTRY_FILE || !rel.isEmpty() || size < 0) {
                    throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "a read of " + path + " answered with another entry");
                }
                if (size > limit) {
                    result.completeExceptionally(new SmartVmException(ErrorCode.OUTPUT_TOO_LARGE, path + " has " + size
                            + " bytes; readBytes reads at most " + limit + ": copy it with copyFrom instead"));
                    return;
                }
                data = new ByteArrayOutputStream((int) size);
                left = size;
            }
            case FrameType.DATA -> {
                window.received(payload.length);
                if (data == null || payload.length > left) {
                    throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "data beyond the size of " + path);
                }
                data.writeBytes(payload);
                left -= payload.length;
                window.consumed(payload.length);
            }
            case FrameType.END -> {
                if (data == null || left != 0) {
                    throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "the read of " + path + " ended early");
                }
                result.complete(data.toByteArray());
            }
            case FrameType.ERROR -> result.completeExceptionally(AgentFiles.guestError(payload, "cannot read " + path + " in the guest"));
            default -> throw new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                    "unexpected frame type 0x" + Integer.toHexString(type) + " for a read");
        }
    }

    @Override
    public void onClosed(SmartVmException cause) {
        result.completeExceptionally(cause);
    }
}

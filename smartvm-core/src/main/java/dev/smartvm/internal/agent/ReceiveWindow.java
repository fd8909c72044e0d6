package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;

/**
 * Credit we granted the guest for one stream. Enforces it (a guest that sends more is hostile)
 * and hands credit back once the bytes were consumed.
 */
final class ReceiveWindow {
    private final AgentConnection connection;
    private final int id;
    private final long size;
    private long outstanding;
    private long consumedUnacked;

    ReceiveWindow(AgentConnection connection, int id) {
        this.connection = connection;
        this.id = id;
        this.size = connection.window();
    }

    /** Called when data arrives; throws when the guest overran the credit we gave it. */
    synchronized void received(int n) {
        outstanding += n;
        if (outstanding > size) {
            throw new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                    "the guest sent " + outstanding + " unacknowledged bytes on stream " + id
                            + "; the window is " + size);
        }
    }

    /** Called when the consumer took the bytes; sends credit back in batches. */
    void consumed(int n) {
        long grant = 0;
        synchronized (this) {
            outstanding -= n;
            consumedUnacked += n;
            if (consumedUnacked >= size / 4) {
                grant = consumedUnacked;
                consumedUnacked = 0;
            }
        }
        if (grant > 0) {
            connection.sendQuietly(id, FrameType.WINDOW, new PayloadWriter().u32(grant).toByteArray());
        }
    }
}

package dev.smartvm.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Where a stream of guest output goes. {@link #accept} runs on the connection's reader thread
 * and must not block for long; it calls {@code consumed} once the bytes were taken, which
 * hands the guest credit to send more.
 */
public interface OutputSink {
    void accept(byte[] chunk, Runnable consumed);

    /** The stream ended normally. */
    void end();

    /** The stream broke. */
    void fail(SmartVmException cause);

    /** Collects up to {@code limit} bytes; more is an error, so nothing is silently lost. */
    static Collecting collecting(long limit) {
        return new Collecting(limit);
    }

    /** Writes each chunk straight to {@code target} and flushes it (for a CLI's own stdout). */
    static OutputSink forwardingTo(OutputStream target) {
        return new OutputSink() {
            @Override
            public void accept(byte[] chunk, Runnable consumed) {
                try {
                    target.write(chunk);
                    target.flush();
                } catch (IOException e) {
                    // The reader of our output went away (a closed pipe): keep the guest flowing.
                }
                consumed.run();
            }

            @Override
            public void end() {
                try {
                    target.flush();
                } catch (IOException ignored) {
                    // nothing left to flush to
                }
            }

            @Override
            public void fail(SmartVmException cause) {
                end();
            }
        };
    }

    /** Drops everything. */
    static OutputSink discarding() {
        return new OutputSink() {
            @Override
            public void accept(byte[] chunk, Runnable consumed) {
                consumed.run();
            }

            @Override
            public void end() {
            }

            @Override
            public void fail(SmartVmException cause) {
            }
        };
    }

    /** A sink that keeps what it gets, within a limit. */
    final class Collecting implements OutputSink {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final long limit;
        private boolean overflowed;

        private Collecting(long limit) {
            this.limit = limit;
        }

        @Override
        public synchronized void accept(byte[] chunk, Runnable consumed) {
            if (bytes.size() + (long) chunk.length > limit) {
                overflowed = true;
            } else {
                bytes.writeBytes(chunk);
            }
            consumed.run();
        }

        @Override
        public void end() {
        }

        @Override
        public void fail(SmartVmException cause) {
        }

        public synchronized byte[] bytes() {
            if (overflowed) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the command wrote more than " + limit
                        + " bytes to one stream; use a streaming exec for large output");
            }
            return bytes.toByteArray();
        }
    }
}

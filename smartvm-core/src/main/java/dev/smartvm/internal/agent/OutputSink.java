package dev.smartvm.internal.agent;

import dev.smartvm.SmartVmException;
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
}

package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecProcess;
import dev.smartvm.SmartVmException;
import java.io.ByteArrayOutputStream;

/**
 * The stdout and stderr of one exec, kept in memory within one limit for both together. The
 * first chunk past the limit kills the command and the rest is dropped, so a flood on both streams cannot take more than the limit from the host's heap.
 */
final class CollectedOutput {
    private final long limit;
    private ExecProcess process;
    private final Part stdout = new Part();
    private final Part stderr = new Part();
    private long total;
    private boolean overflowed;

    CollectedOutput(long limit) {
        this.limit = limit;
    }

    /** The command to kill once its output overflows (at once, if it already did). */
    void killOnOverflow(ExecProcess command) {
        boolean already;
        synchronized (this) {
            process = command;
            already = overflowed;
        }
        if (already) {
            command.signal(ExecChannel.SIGKILL);
        }
    }

    OutputSink stdout() {
        return stdout;
    }

    OutputSink stderr() {
        return stderr;
    }

    /** The bytes of one stream; OUTPUT_TOO_LARGE when the command went past the limit. */
    byte[] stdoutBytes() {
        return stdout.bytes();
    }

    byte[] stderrBytes() {
        return stderr.bytes();
    }

    private void take(Part part, byte[] chunk) {
        ExecProcess kill = null;
        synchronized (this) {
            if (overflowed) {
                return;
            }
            if (total + chunk.length > limit) {
                overflowed = true;
                kill = process;
                stdout.buffer.reset(); // nothing will be returned: give the memory back now
                stderr.buffer.reset();
            } else {
                total += chunk.length;
                part.buffer.writeBytes(chunk);
            }
        }
        if (kill != null) {
            kill.signal(ExecChannel.SIGKILL); // one small frame, as window updates are sent from this thread too
        }
    }

    private synchronized byte[] bytesOf(Part part) {
        if (overflowed) {
            throw new SmartVmException(ErrorCode.OUTPUT_TOO_LARGE, "the command wrote more than " + limit
                    + " bytes to stdout and stderr together, the limit of collected output, and was killed;"
                    + " stream its output instead (exec with output streams, or spawn)");
        }
        return part.buffer.toByteArray();
    }

    private final class Part implements OutputSink {
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

        @Override
        public void accept(byte[] chunk, Runnable consumed) {
            take(this, chunk);
            consumed.run();
        }

        @Override
        public void end() {
        }

        @Override
        public void fail(SmartVmException cause) {
        }

        byte[] bytes() {
            return bytesOf(this);
        }
    }
}

package dev.smartvm;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;

/**
 * A command running in the guest, with its streams. Read stdout and stderr as they arrive;
 * the guest stops producing when they are not read (flow control), so read both or close them.
 */
public interface ExecProcess extends AutoCloseable {
    /** The command's stdin; {@code close()} sends EOF. Only present when requested. */
    OutputStream stdin();

    InputStream stdout();

    InputStream stderr();

    /** Waits for the command to end. */
    ExitStatus waitFor(Duration timeout);

    /** Sends a signal to the command's process group. */
    void signal(int signal);

    /**
     * Changes the size of the command's terminal (its foreground process group gets SIGWINCH).
     *
     * @throws SmartVmException INVALID_STATE when the command has ended or was started without a
     *     terminal ({@link ExecRequest#withPty}); INVALID_ARGUMENT for a size outside 1..65535
     */
    void resize(int columns, int rows);

    /** Kills the command if it still runs and releases its streams. Idempotent. */
    @Override
    void close();
}

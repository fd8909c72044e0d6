package dev.smartvm.internal.smolvm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;

/**
 * smolvm said no: a non-zero exit of one of its commands (other than {@code exec}, whose exit
 * code is the guest command's), with the exit code and stderr, or a machine that did not get
 * ready in time. The message carries smolvm's stderr.
 */
public final class SmolvmException extends SmartVmException {
    private final int exitCode;
    private final String stderr;

    public SmolvmException(String message, int exitCode, String stderr) {
        super(ErrorCode.VMM_ERROR, message);
        this.exitCode = exitCode;
        this.stderr = stderr;
    }

    /** smolvm's exit code, or -1 when no command failed (a wait that timed out). */
    public int exitCode() {
        return exitCode;
    }

    /** What smolvm wrote on stderr, or "". */
    public String stderr() {
        return stderr;
    }
}

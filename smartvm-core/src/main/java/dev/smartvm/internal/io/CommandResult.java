package dev.smartvm.internal.io;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.List;

/** A finished host program: its argv, exit code and output. */
public record CommandResult(List<String> argv, int exitCode, String stdout, String stderr) {
    public CommandResult {
        argv = List.copyOf(argv);
    }

    /** Returns this result, or throws with the command's stderr when it failed. */
    public CommandResult orThrow(ErrorCode code) {
        if (exitCode != 0) {
            String err = stderr.strip();
            if (err.length() > 2000) {
                err = "..." + err.substring(err.length() - 2000);
            }
            throw new SmartVmException(code, String.join(" ", argv) + " exited with " + exitCode
                    + (err.isEmpty() ? "" : ": " + err));
        }
        return this;
    }
}

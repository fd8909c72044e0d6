package dev.smartvm.internal.host;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * A guest's serial console log of bounded size. The VMM writes the console to fd 3, a pipe;
 * the agent binary's host mode ({@code smartvm-agent --console-log}) starts the VMM and copies
 * the pipe to {@code console.log}, which it moves to {@code console.log.1} each time it reaches
 * {@link #MAX_BYTES}: at most twice that on disk, however much the guest writes. The VMM keeps
 * the pid its starter sees (the wrapper execs it); the writer ends when the VMM is gone.
 */
public final class ConsoleRing {
    /** A console log is moved aside to {@code console.log.1} at this size. */
    public static final long MAX_BYTES = 4L * 1024 * 1024;
    /** What the VMM opens to write the console: the pipe to the writer. */
    public static final String VMM_CONSOLE_PATH = "/dev/fd/3";

    private ConsoleRing() {
    }

    /** {@code vmmArgv} run behind the console writer, which logs what the VMM writes to fd 3 into {@code log}. */
    public static List<String> wrap(Path toolsDir, Path log, List<String> vmmArgv) {
        List<String> argv = new ArrayList<>(List.of(tool(toolsDir).toString(), "--console-log", log.toString(),
                Long.toString(MAX_BYTES), "--"));
        argv.addAll(vmmArgv);
        return argv;
    }

    /** The agent binary as a host executable in {@code toolsDir}, named by its checksum (written once, atomically). */
    static Path tool(Path toolsDir) {
        Path tool = toolsDir.resolve("smartvm-agent-" + AgentBinary.sha256().substring(0, 16));
        if (Files.isExecutable(tool)) {
            return tool;
        }
        try {
            Files.createDirectories(toolsDir);
            // executable before it takes its name: another process may run it the instant it has one
            AtomicFiles.replace(tool, AgentBinary.bytes(),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            return tool;
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write the console log writer " + tool + ": " + e.getMessage(), e);
        }
    }
}

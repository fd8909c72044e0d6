package dev.smartvm.internal.host;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a VMM the one way every engine does: in a session of its own ({@code setsid}: a Ctrl-C
 * on the terminal must not kill the VM behind SmartVM's back), labelled with its VM directory
 * ({@link VmmLabel}) from its first instant, stdin from /dev/null, its output to a file, and its
 * command line written beside it.
 */
public final class VmmLauncher {
    /** The longest path a Unix socket address holds (sun_path, less its NUL). */
    public static final int MAX_SOCKET_PATH = 107;
    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private VmmLauncher() {
    }

    /**
     * INVALID_ARGUMENT, naming the path and what to shorten ({@code shorten}), when a socket
     * path is too long for a Unix socket.
     */
    public static void checkSocketPaths(String shorten, Path... sockets) {
        for (Path socket : sockets) {
            if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "socket path " + socket + " is longer than "
                        + MAX_SOCKET_PATH + " bytes; set " + shorten + " to a shorter directory");
            }
        }
    }

    /** {@code argv} as it is run: in a session of its own. */
    public static List<String> inOwnSession(List<String> argv) {
        List<String> out = new ArrayList<>();
        if (Files.isExecutable(SETSID)) {
            out.add(SETSID.toString());
        }
        out.addAll(argv);
        return out;
    }

    /**
     * Starts {@code argv} ({@link #inOwnSession}) for the VM in {@code vmDir}, its working directory; the command line
     * goes to {@code argvFile}, stdout and stderr to {@code output}.
     *
     * @throws SmartVmException HOST_DEPENDENCY_MISSING when it cannot be started
     */
    public static Process launch(List<String> argv, Path vmDir, Path argvFile, Path output) {
        List<String> run = inOwnSession(argv);
        try {
            Files.writeString(argvFile, String.join("\n", run) + "\n");
            return VmmLabel.apply(new ProcessBuilder(run), vmDir)
                    .directory(vmDir.toFile()) // relative paths (Firecracker's) are the VM's files
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "cannot start " + argv.get(0) + ": " + e.getMessage(), e);
        }
    }
}

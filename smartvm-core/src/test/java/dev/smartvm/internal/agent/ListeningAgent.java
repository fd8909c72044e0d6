package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.AgentBinary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The real agent binary serving its protocol on a Unix socket on the host (no VM): fast protocol tests. */
final class ListeningAgent implements AutoCloseable {
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    private final Process process;
    private final Path socket;
    private final Path binary;

    ListeningAgent(Path dir) throws IOException {
        binary = dir.resolve("smartvm-agent");
        Files.write(binary, AgentBinary.bytes());
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
        socket = dir.resolve("agent.sock");
        // The agent gets supplementary groups, as a real init may have: commands run as another user must not keep them.
        List<String> argv = new ArrayList<>();
        if (Files.isExecutable(SETPRIV) && ProcessHandle.current().info().user().orElse("").equals("root")) {
            argv.addAll(List.of(SETPRIV.toString(), "--groups", "4,27"));
        }
        argv.addAll(List.of(binary.toString(), "--listen", socket.toString()));
        process = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile()).start();
    }

    AgentClient connect() {
        AgentConnection c = AgentConnection.open(socket, 0, Duration.ofSeconds(10), "test-agent-reader",
                reason -> new SmartVmException(ErrorCode.AGENT_PROTOCOL, reason));
        return new AgentClient(c);
    }

    Path socket() {
        return socket;
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

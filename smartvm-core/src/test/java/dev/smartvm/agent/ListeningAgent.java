package dev.smartvm.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.image.AgentBinary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/** The real agent binary serving its protocol on a Unix socket on the host (no VM): fast protocol tests. */
final class ListeningAgent implements AutoCloseable {
    private final Process process;
    private final Path socket;
    private final Path binary;

    ListeningAgent(Path dir) throws IOException {
        binary = dir.resolve("smartvm-agent");
        Files.write(binary, AgentBinary.bytes());
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
        socket = dir.resolve("agent.sock");
        process = new ProcessBuilder(binary.toString(), "--listen", socket.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile()).start();
    }

    AgentClient connect() {
        AgentConnection c = AgentConnection.open(socket, Duration.ofSeconds(10), "test-agent-reader",
                reason -> new SmartVmException(ErrorCode.AGENT_PROTOCOL, reason));
        return new AgentClient(c);
    }

    Path socket() {
        return socket;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }
}

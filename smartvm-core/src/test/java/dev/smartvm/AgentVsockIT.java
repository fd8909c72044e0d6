package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The agent's vsock listener (what Firecracker's hybrid vsock reaches) in a real guest kernel.
 * No vhost-vsock here, so the host cannot reach a guest port; instead a second agent listens on
 * a vsock port inside the guest, and a small client (src/test/c/vsock-hello.c, compiled here)
 * connects to it over vsock_loopback and does the handshake and a ping.
 */
@SuppressWarnings("try") // the listener runs for the block
class AgentVsockIT extends RealVmTest {
    @Test
    void theAgentServesItsProtocolOnAVsockPort() throws IOException, InterruptedException {
        Path client = TestPrograms.compile(home, "vsock-hello");
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            vm.copyTo(client, "/tmp/vsock-hello");
            try (ExecProcess listener = vm.spawn(ExecRequest.of("/init", "--listen", "vsock:5000"))) {
                for (int connection = 1; connection <= 2; connection++) { // the second proves it accepts again
                    ExecResult r = vm.exec(ExecRequest.of("/tmp/vsock-hello", "5000").withTimeout(Duration.ofSeconds(30)));
                    assertThat(r.exitCode()).as(r.stderr()).isZero();
                    assertThat(r.stdout()).isEqualTo("HELLO and PONG over vsock port 5000\n");
                }
            }
        }
        Files.deleteIfExists(client);
    }
}

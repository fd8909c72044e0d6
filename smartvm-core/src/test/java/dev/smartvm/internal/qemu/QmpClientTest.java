package dev.smartvm.internal.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Json;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** QMP against a fake server that speaks it as QEMU does: greeting, capabilities first, ids echoed. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class QmpClientTest {
    private static final Duration T = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private final java.util.concurrent.CountDownLatch slowHeld = new java.util.concurrent.CountDownLatch(1);

    /** Serves one client; refuses commands before qmp_capabilities, as QEMU does. */
    private Thread fakeQemu(Path socket, String greeting) throws Exception {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        return Thread.ofPlatform().daemon().start(() -> {
            try (server; SocketChannel ch = server.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
                OutputStream out = Channels.newOutputStream(ch);
                out.write((greeting + "\n").getBytes(StandardCharsets.UTF_8));
                boolean negotiated = false;
                String held = null;
                String line;
                while ((line = in.readLine()) != null) {
                    JsonNode req = Json.MAPPER.readTree(line);
                    String cmd = req.get("execute").asText();
                    String id = req.get("id").toString();
                    String reply;
                    if (!negotiated && !cmd.equals("qmp_capabilities")) {
                        reply = "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting capabilities negotiation\"},\"id\":" + id + "}";
                    } else if (cmd.equals("qmp_capabilities")) {
                        negotiated = true;
                        reply = "{\"return\":{},\"id\":" + id + "}";
                    } else if (cmd.equals("slow")) {
                        held = "{\"return\":{\"which\":\"slow\"},\"id\":" + id + "}";
                        slowHeld.countDown();
                        continue;
                    } else if (cmd.equals("stop")) {
                        out.write("{\"event\":\"STOP\",\"timestamp\":{\"seconds\":1,\"microseconds\":2}}\n".getBytes(StandardCharsets.UTF_8));
                        reply = "{\"return\":{},\"id\":" + id + "}";
                    } else if (cmd.equals("fast")) {
                        reply = "{\"return\":{\"which\":\"fast\"},\"id\":" + id + "}\n" + held;
                    } else {
                        reply = "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command " + cmd + " has not been found\"},\"id\":" + id + "}";
                    }
                    out.write((reply + "\n").getBytes(StandardCharsets.UTF_8));
                }
            } catch (Exception e) {
                // the client went away
            }
        });
    }

    private static final String GREETING = "{\"QMP\":{\"version\":{\"qemu\":{\"major\":7,\"minor\":2,\"micro\":0}},\"capabilities\":[\"oob\"]}}";

    @Test
    void negotiatesMatchesRepliesByIdAndDeliversEvents() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        fakeQemu(socket, GREETING);
        try (QmpClient qmp = QmpClient.connect(socket, T, () -> true)) {
            List<String> events = new CopyOnWriteArrayList<>();
            qmp.addEventListener(e -> events.add(e.get("event").asText()));
            qmp.execute("stop", null, T);
            assertThat(events).containsExactly("STOP");

            // "slow" is answered only after "fast": each caller still gets its own reply.
            var slow = java.util.concurrent.CompletableFuture.supplyAsync(() -> qmp.execute("slow", null, T));
            assertThat(slowHeld.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(qmp.execute("fast", null, T).get("which").asText()).isEqualTo("fast");
            assertThat(slow.get(5, TimeUnit.SECONDS).get("which").asText()).isEqualTo("slow");

            assertThatThrownBy(() -> qmp.execute("frobnicate", null, T))
                    .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.VMM_ERROR))
                    .hasMessageContaining("frobnicate has not been found");
        }
    }

    @Test
    void refusesAPeerThatIsNotQmp() throws Exception {
        Path socket = dir.resolve("notqmp.sock");
        fakeQemu(socket, "{\"hello\":\"world\"}");
        assertThatThrownBy(() -> QmpClient.connect(socket, Duration.ofSeconds(1), () -> true))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.VMM_ERROR));
    }

    @Test
    void givesUpWhenTheVmmDiesBeforeItListens() {
        assertThatThrownBy(() -> QmpClient.connect(dir.resolve("never.sock"), Duration.ofSeconds(30), () -> false))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.VMM_ERROR));
    }
}

package dev.smartvm.internal.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecRequest;
import dev.smartvm.SmartVmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Everything a guest sends is hostile: paths, sizes, windows and frames are checked on the host. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HostileGuestTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private SmartVmException downloadFrom(FakeGuest.Script script, Path target) throws Exception {
        try (FakeGuest guest = new FakeGuest(dir.resolve("g.sock"), new byte[0], script);
                AgentClient client = guest.connect()) {
            Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> client.download("/x", target, T));
            assertThat(t).isInstanceOf(SmartVmException.class);
            return (SmartVmException) t;
        }
    }

    private static FakeGuest.Script tree(String rootKind, String... relThenKind) {
        return (id, type, payload, out) -> {
            if (type != FrameType.GET) {
                return;
            }
            out.entry(id, rootKind.equals("dir") ? FrameType.ENTRY_DIR : FrameType.ENTRY_FILE, 0755, 0, "", "");
            for (int i = 0; i < relThenKind.length; i += 2) {
                switch (relThenKind[i + 1]) {
                    case "dir" -> out.entry(id, FrameType.ENTRY_DIR, 0755, 0, relThenKind[i], "");
                    case "file" -> {
                        out.entry(id, FrameType.ENTRY_FILE, 0644, 4, relThenKind[i], "");
                        out.frame(id, FrameType.DATA, "evil".getBytes());
                    }
                    default -> out.entry(id, FrameType.ENTRY_SYMLINK, 0777, 0, relThenKind[i], relThenKind[i + 1]);
                }
            }
            out.frame(id, FrameType.END, new byte[0]);
        };
    }

    @Test
    void refusesParentEscapes() throws Exception {
        SmartVmException e = downloadFrom(tree("dir", "../escaped", "file"), dir.resolve("t"));
        assertThat(e.code()).isEqualTo(ErrorCode.UNSAFE_PATH);
        assertThat(dir.resolve("escaped")).doesNotExist();
    }

    @Test
    void refusesAbsolutePaths() throws Exception {
        Path outside = dir.resolve("outside.txt");
        SmartVmException e = downloadFrom(tree("dir", outside.toString(), "file"), dir.resolve("t"));
        assertThat(e.code()).isEqualTo(ErrorCode.UNSAFE_PATH);
        assertThat(outside).doesNotExist();
    }

    @Test
    void refusesWritingThroughASymlinkItSent() throws Exception {
        Path victim = Files.createDirectories(dir.resolve("victim"));
        SmartVmException e = downloadFrom(tree("dir", "link", victim.toString(), "link/pwned", "file"), dir.resolve("t"));
        assertThat(e.code()).isEqualTo(ErrorCode.UNSAFE_PATH);
        assertThat(victim.resolve("pwned")).doesNotExist();
    }

    @Test
    void refusesEntriesBeforeTheRoot() throws Exception {
        FakeGuest.Script s = (id, type, payload, out) -> {
            out.entry(id, FrameType.ENTRY_FILE, 0644, 0, "x", "");
            out.frame(id, FrameType.END, new byte[0]);
        };
        assertThat(downloadFrom(s, dir.resolve("t")).code()).isEqualTo(ErrorCode.AGENT_PROTOCOL);
    }

    @Test
    void refusesFileDataBeyondTheAnnouncedSize() throws Exception {
        FakeGuest.Script s = (id, type, payload, out) -> {
            out.entry(id, FrameType.ENTRY_FILE, 0644, 2, "", "");
            out.frame(id, FrameType.DATA, "toolong".getBytes());
            out.frame(id, FrameType.END, new byte[0]);
        };
        assertThat(downloadFrom(s, dir.resolve("t")).code()).isEqualTo(ErrorCode.AGENT_PROTOCOL);
    }

    @Test
    void refusesFramesOverTheSizeLimit() throws Exception {
        FakeGuest.Script s = (id, type, payload, out) -> out.rawHeader(64 * 1024 * 1024, id, FrameType.STDOUT);
        try (FakeGuest guest = new FakeGuest(dir.resolve("g.sock"), new byte[0], s);
                AgentClient client = guest.connect()) {
            assertThatThrownBy(() -> client.run(ExecRequest.of("x")))
                    .isInstanceOf(SmartVmException.class)
                    .hasMessageContaining("limit");
            assertThat(client.connection().isOpen()).isFalse();
        }
    }

    @Test
    void refusesOutputBeyondTheWindow() throws Exception {
        byte[] chunk = new byte[64 * 1024];
        FakeGuest.Script s = (id, type, payload, out) -> {
            if (type == FrameType.EXEC) {
                for (int i = 0; i < 17; i++) { // 17 x 64 KiB > the 1 MiB window, without waiting for credit
                    out.frame(id, FrameType.STDOUT, chunk);
                }
            }
        };
        try (FakeGuest guest = new FakeGuest(dir.resolve("g.sock"), new byte[0], s);
                AgentClient client = guest.connect()) {
            var p = client.start(ExecRequest.of("x"), false, null, null);
            assertThatThrownBy(() -> p.waitFor(T)).isInstanceOf(SmartVmException.class).hasMessageContaining("window");
        }
    }

    @Test
    void skipsStaleBytesBeforeItsHandshake() throws Exception {
        byte[] stale = "left over from an earlier host\0\0\0\7junk".getBytes();
        FakeGuest.Script s = (id, type, payload, out) -> {
            if (type == FrameType.PING) {
                out.frame(id, FrameType.PONG, new byte[0]);
            }
        };
        try (FakeGuest guest = new FakeGuest(dir.resolve("g.sock"), stale, s);
                AgentClient client = guest.connect()) {
            assertThat(client.ping(T)).isPositive();
        }
    }

    @Test
    void anExecTheGuestNeverEndsEndsAtTheHostDeadline() throws Exception {
        java.util.concurrent.CompletableFuture<Integer> killed = new java.util.concurrent.CompletableFuture<>();
        FakeGuest.Script s = (id, type, payload, out) -> {
            if (type == FrameType.EXEC) {
                out.frame(id, FrameType.STARTED, new PayloadWriter().u32(42).toByteArray()); // and never an EXIT
            } else if (type == FrameType.SIGNAL) {
                killed.complete(new PayloadReader(payload).u32());
            }
        };
        try (FakeGuest guest = new FakeGuest(dir.resolve("g.sock"), new byte[0], s);
                AgentClient client = guest.connect()) {
            long t0 = System.nanoTime();
            var result = client.run(ExecRequest.of("sleep", "100").withTimeout(Duration.ofMillis(500)));
            assertThat(result.status().code()).isEqualTo(124);
            assertThat(result.status().timedOut()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(ExecChannel.HOST_GRACE);
            assertThat(killed.get(5, TimeUnit.SECONDS)).as("the host asked the guest to kill it").isEqualTo(9);
            assertThat(client.connection().isOpen()).as("the session goes on").isTrue();
        }
    }

    @Test
    void aStreamingExecTheGuestNeverEndsEndsAtTheHostDeadlineToo() throws Exception {
        FakeGuest.Script s = (id, type, payload, out) -> { };
        try (FakeGuest guest = new FakeGuest(dir.resolve("g.sock"), new byte[0], s);
                AgentClient client = guest.connect()) {
            var p = client.start(ExecRequest.of("sleep", "100").withTimeout(Duration.ofMillis(200)), true, null, null);
            assertThat(p.waitFor(T).code()).isEqualTo(124);
            assertThat(p.stdout().read()).as("its output ends").isEqualTo(-1);
        }
    }

    @Test
    void anExecWithoutTimeoutHasNoHostDeadline() throws Exception {
        FakeGuest.Script s = (id, type, payload, out) -> { };
        try (FakeGuest guest = new FakeGuest(dir.resolve("g.sock"), new byte[0], s);
                AgentClient client = guest.connect()) {
            var p = client.start(ExecRequest.of("sleep", "100"), false, null, null);
            assertThatThrownBy(() -> p.waitFor(ExecChannel.HOST_GRACE.plusSeconds(1)))
                    .isInstanceOf(SmartVmException.class)
                    .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.TIMEOUT);
        }
    }

    @Test
    void aDownloadCutShortLeavesNoFileUnderItsNameAndKeepsTheOldOne() throws Exception {
        Path target = Files.writeString(dir.resolve("kept"), "the good old content");
        FakeGuest.Script s = (id, type, payload, out) -> {
            if (type == FrameType.GET) {
                out.entry(id, FrameType.ENTRY_FILE, 0644, 1000, "", "");
                out.frame(id, FrameType.DATA, "only ten b".getBytes());
                throw new java.io.IOException("the guest goes away mid-file");
            }
        };
        try (FakeGuest guest = new FakeGuest(dir.resolve("g.sock"), new byte[0], s);
                AgentClient client = guest.connect()) {
            assertThatThrownBy(() -> client.download("/x", target, T)).isInstanceOf(SmartVmException.class);
        }
        assertThat(Files.readString(target)).isEqualTo("the good old content");
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString()).filter(n -> n.contains("smartvm-part")).toList()).isEmpty();
        }
    }

    /** Found by HostDecoderFuzzTest: an ERROR whose message is cut short left the exec waiting forever. */
    @Test
    void aMalformedErrorFrameEndsTheExecInsteadOfHangingIt() throws Exception {
        FakeGuest.Script s = (id, type, payload, out) -> {
            if (type == FrameType.EXEC) {
                out.frame(id, FrameType.ERROR, new byte[] {0, 0, 0, 0}); // errno, and no message at all
            }
        };
        try (FakeGuest guest = new FakeGuest(dir.resolve("g.sock"), new byte[0], s);
                AgentClient client = guest.connect()) {
            var p = client.start(ExecRequest.of("x"), false, null, null);
            assertThatThrownBy(() -> p.waitFor(T)).isInstanceOf(SmartVmException.class)
                    .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.AGENT_PROTOCOL);
        }
    }
}

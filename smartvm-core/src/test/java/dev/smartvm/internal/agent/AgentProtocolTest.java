package dev.smartvm.internal.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecProcess;
import dev.smartvm.ExecRequest;
import dev.smartvm.ExecResult;
import dev.smartvm.GuestUsage;
import dev.smartvm.SmartVmException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The agent protocol end to end against the real agent binary, served on a host Unix socket. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentProtocolTest {
    private static final Duration T = Duration.ofSeconds(30);
    private static final Map<String, String> PATH = Map.of("PATH", "/usr/bin:/bin");

    @TempDir
    Path dir;

    private ListeningAgent agent;
    private AgentClient client;

    @BeforeEach
    void start() throws Exception {
        agent = new ListeningAgent(dir);
        client = agent.connect();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        agent.close();
    }

    private ExecResult run(String... argv) {
        return client.run(new ExecRequest(List.of(argv), PATH, null, null, null, -1));
    }

    private static void write(java.nio.channels.SocketChannel ch, byte[] bytes) throws java.io.IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads one frame: {type, id, payload...} as (type, id) and the payload. */
    private static byte[] frame(java.nio.channels.SocketChannel ch, int[] typeAndId) throws java.io.IOException {
        java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(9);
        while (h.hasRemaining()) {
            if (ch.read(h) < 0) {
                throw new java.io.EOFException();
            }
        }
        h.flip();
        int len = h.getInt();
        typeAndId[1] = h.getInt();
        typeAndId[0] = h.get() & 0xff;
        java.nio.ByteBuffer p = java.nio.ByteBuffer.allocate(len);
        while (p.hasRemaining()) {
            if (ch.read(p) < 0) {
                throw new java.io.EOFException();
            }
        }
        return p.array();
    }

    private static byte[] preamble(byte fill) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(FrameType.MAGIC.length + FrameType.NONCE_LENGTH + 4);
        b.put(FrameType.MAGIC);
        for (int i = 0; i < FrameType.NONCE_LENGTH; i++) {
            b.put(fill);
        }
        b.putInt(FrameType.VERSION);
        return b.array();
    }

    /**
     * A new host's preamble arriving in the middle of a session (a virtio port whose hang-up and
     * reconnection fell between two polls of the agent) starts a new session at once.
     */
    @Test
    void aPreambleInTheMiddleOfASessionStartsANewOne() throws Exception {
        client.close();
        try (java.nio.channels.SocketChannel ch = dev.smartvm.internal.io.UnixSockets.connect(agent.socket(),
                System.nanoTime() + T.toNanos(), () -> true)) {
            int[] ti = new int[2];
            write(ch, preamble((byte) 1));
            byte[] hello = frame(ch, ti);
            assertThat(ti[0]).isEqualTo(0x81);
            assertThat(hello[0]).isEqualTo((byte) 1);
            write(ch, preamble((byte) 2));
            hello = frame(ch, ti);
            assertThat(ti[0]).as("a second HELLO").isEqualTo(0x81);
            assertThat(hello[0]).as("with the new nonce").isEqualTo((byte) 2);
            write(ch, new byte[] {0, 0, 0, 1, 0, 0, 0, 5, 0x0B, 'x'});
            byte[] pong = frame(ch, ti);
            assertThat(ti).containsExactly(0x8B, 5);
            assertThat(pong).containsExactly('x');
        }
        client = agent.connect();
    }

    /**
     * An exec that ends long before its deadline leaves nothing on the timer: a cancelled deadline
     * an hour away would otherwise hold the exec and its output for that hour.
     */
    @Test
    void anExecThatEndedLeavesNoDeadlineBehind() {
        ExecRequest request = new ExecRequest(List.of("true"), PATH, null, Duration.ofHours(1), null, -1);
        client.run(request);
        int before = AgentConnection.scheduledTasks();
        for (int i = 0; i < 20; i++) {
            assertThat(client.run(request).exitCode()).isZero();
        }
        assertThat(AgentConnection.scheduledTasks()).isLessThanOrEqualTo(before);
    }

    /** USAGE: the host's memory (the agent reads /proc/meminfo), and idleness that requests end and running ones hold off. */
    @Test
    void usageReportsMemoryAndHowLongNoRequestWasActive() throws Exception {
        GuestUsage first = client.usage(T).orElseThrow();
        assertThat(first.memoryTotalBytes()).isPositive();
        assertThat(first.memoryAvailableBytes()).isBetween(1L, first.memoryTotalBytes());
        Thread.sleep(300);
        client.ping(T);
        client.sync(T);
        GuestUsage watched = client.usage(T).orElseThrow();
        assertThat(watched.idle()).as("pings, syncs and usage questions are not activity")
                .isGreaterThanOrEqualTo(Duration.ofMillis(300));
        long t0 = System.nanoTime();
        try (ExecProcess sleeping = client.start(new ExecRequest(List.of("sleep", "1"), PATH, null, null, null, -1), false,
                null, null)) {
            Thread.sleep(500);
            GuestUsage busy = client.usage(T).orElseThrow();
            assertThat(busy.activeRequests()).isEqualTo(1);
            assertThat(busy.idle()).as("a running exec is activity").isZero();
            sleeping.waitFor(T);
        }
        GuestUsage after = client.usage(T).orElseThrow();
        assertThat(after.activeRequests()).isZero();
        Duration sinceExecEnded = Duration.ofNanos(System.nanoTime() - t0).minusMillis(900); // `sleep 1` ran at least that long
        assertThat(after.idle()).as("counted from the exec's end").isLessThanOrEqualTo(sinceExecEnded);
    }

    @Test
    void reportsExitCodesAndKeepsStreamsApart() {
        ExecResult r = run("sh", "-c", "echo out; echo err >&2; exit 7");
        assertThat(r.exitCode()).isEqualTo(7);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        assertThat(run("true").exitCode()).isZero();
    }

    @Test
    void unknownCommandIs127AndUnexecutableIs126() throws Exception {
        ExecResult missing = run("no-such-command-anywhere");
        assertThat(missing.exitCode()).isEqualTo(127);
        assertThat(missing.stderr()).contains("no-such-command-anywhere").contains("No such file");
        Path notExec = Files.writeString(dir.resolve("plain.txt"), "x");
        assertThat(run(notExec.toString()).exitCode()).isEqualTo(126);
        assertThat(run("true").exitCode()).as("the agent still serves").isZero();
    }

    @Test
    void passesEnvCwdAndArgvWithoutAShell() {
        ExecResult r = client.run(new ExecRequest(List.of("sh", "-c", "echo \"$GREETING\"; pwd; printf '%s|' \"$@\"", "sh",
                "a b", "$HOME", "*"), Map.of("PATH", "/usr/bin:/bin", "GREETING", "hi there"), dir.toString(), null, null, -1));
        assertThat(r.stdout()).isEqualTo("hi there\n" + dir + "\na b|$HOME|*|");
    }

    @Test
    void runsAsAnotherUserWithoutRootsGroups() {
        ExecResult r = client.run(new ExecRequest(List.of("sh", "-c", "id -u; id -g; id -G"), PATH, "/", null, null, 65534));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).isEqualTo("65534\n65534\n65534\n");
    }

    @Test
    void missingWorkdirFailsClearly() {
        ExecResult r = client.run(new ExecRequest(List.of("true"), PATH, "/no/such/dir", null, null, -1));
        assertThat(r.exitCode()).isEqualTo(126);
        assertThat(r.stderr()).contains("/no/such/dir");
    }

    @Test
    void feedsStdinAndSendsEof() {
        byte[] input = new byte[3 * 1024 * 1024 + 17];
        for (int i = 0; i < input.length; i++) {
            input[i] = (byte) (i * 31);
        }
        ExecResult r = client.run(new ExecRequest(List.of("sha256sum"), PATH, null, null, input, -1));
        assertThat(r.stdout()).startsWith(dev.smartvm.internal.io.Hashing.sha256(input));
    }

    @Test
    void timeoutKillsTheProcessGroupWith124() {
        // Only a kill of the whole group ends this inside the class timeout (a background child holds stdout).
        ExecResult r = client.run(new ExecRequest(List.of("sh", "-c", "sleep 1000 & sleep 1000; echo never"), PATH, null,
                Duration.ofMillis(300), null, -1));
        assertThat(r.exitCode()).isEqualTo(124);
        assertThat(r.status().timedOut()).isTrue();
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void signalsReachTheCommand() throws Exception {
        try (ExecProcess p = client.start(new ExecRequest(List.of("sleep", "30"), PATH, null, null, null, -1), false, null, null)) {
            ((ExecChannel) p).awaitPid(T);
            p.signal(15);
            var status = p.waitFor(T);
            assertThat(status.signal()).isEqualTo(15);
            assertThat(status.code()).isEqualTo(143);
        }
    }

    @Test
    void streamsLargeOutputWithFlowControl() throws Exception {
        // 16 MiB is many windows: the guest must wait for credit and nothing may be lost.
        try (ExecProcess p = client.start(new ExecRequest(List.of("head", "-c", "16777216", "/dev/zero"), PATH, null, null,
                null, -1), false, null, null)) {
            long total = 0;
            byte[] buf = new byte[8192];
            try (InputStream out = p.stdout()) {
                int n;
                while ((n = out.read(buf)) > 0) {
                    total += n;
                }
            }
            assertThat(p.waitFor(T).code()).isZero();
            assertThat(total).isEqualTo(16L * 1024 * 1024);
        }
    }

    @Test
    void interactiveStdinRoundTrips() throws Exception {
        try (ExecProcess p = client.start(new ExecRequest(List.of("cat"), PATH, null, null, null, -1), true, null, null)) {
            OutputStream in = p.stdin();
            in.write("ping\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            byte[] echo = new byte[5];
            assertThat(p.stdout().readNBytes(echo, 0, 5)).isEqualTo(5);
            assertThat(new String(echo, StandardCharsets.UTF_8)).isEqualTo("ping\n");
            in.close();
            assertThat(p.waitFor(T).code()).isZero();
        }
    }

    @Test
    void aTerminalExecHasItsSizeAndResizesAndMergesItsOutput() throws Exception {
        ExecRequest r = new ExecRequest(List.of("sh", "-c", "tty; stty size; echo to-err >&2; read line; stty size; echo got:$line"),
                PATH, null, null, null, -1).withPty(80, 24);
        try (ExecProcess p = client.start(r, true, null, null)) {
            assertThat(readUntil(p.stdout(), "24 80\r\n")).startsWith("/dev/pts/");
            p.resize(100, 30);
            p.stdin().write("hello\n".getBytes(StandardCharsets.UTF_8));
            p.stdin().flush();
            String rest = new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(rest).as("the terminal echoes, translates newlines and has the new size")
                    .contains("hello\r\n", "30 100\r\n", "got:hello\r\n");
            assertThat(p.waitFor(T).code()).isZero();
            assertThat(p.stderr().readAllBytes()).as("stderr goes to the terminal too").isEmpty();
            assertThatThrownBy(() -> p.resize(90, 20)).isInstanceOf(SmartVmException.class)
                    .hasMessageContaining("has ended").extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.INVALID_STATE);
        }
    }

    @Test
    void closingATerminalsStdinIsItsEndOfFileAndItsSignalKeysWork() throws Exception {
        try (ExecProcess p = client.start(new ExecRequest(List.of("cat"), PATH, null, null, null, -1).withPty(80, 24), true, null, null)) {
            p.stdin().write("abc\n".getBytes(StandardCharsets.UTF_8));
            p.stdin().close();
            assertThat(p.waitFor(T).code()).as("cat read the EOF character").isZero();
        }
        try (ExecProcess p = client.start(new ExecRequest(List.of("sh", "-c", "echo ready; exec sleep 60"), PATH, null, null, null, -1)
                .withPty(80, 24), true, null, null)) {
            readUntil(p.stdout(), "ready");
            p.stdin().write(3); // Ctrl-C: the line discipline signals the foreground process group
            p.stdin().flush();
            assertThat(p.waitFor(T).code()).isEqualTo(128 + 2);
        }
    }

    @Test
    void onlyATerminalExecResizesAndSizesAreChecked() {
        try (ExecProcess p = client.start(new ExecRequest(List.of("sleep", "30"), PATH, null, null, null, -1), true, null, null)) {
            assertThatThrownBy(() -> p.resize(80, 24)).isInstanceOf(SmartVmException.class).hasMessageContaining("no terminal");
        }
        assertThatThrownBy(() -> ExecRequest.of("sh").withPty(0, 24)).isInstanceOf(SmartVmException.class)
                .hasMessageContaining("1 to 65535 columns");
        assertThatThrownBy(() -> ExecRequest.of("sh").withPty(80, 70000)).isInstanceOf(SmartVmException.class);
    }

    private static String readUntil(java.io.InputStream in, String marker) throws java.io.IOException {
        StringBuilder seen = new StringBuilder();
        int b;
        while (seen.indexOf(marker) < 0 && (b = in.read()) >= 0) {
            seen.append((char) b);
        }
        assertThat(seen.toString()).contains(marker);
        return seen.toString();
    }

    @Test
    void runsEightExecsAtOnceOverOneConnection() throws Exception {
        // A barrier only eight commands running at the same time can pass.
        Path barrier = Files.createDirectories(dir.resolve("barrier"));
        List<CompletableFuture<ExecResult>> all = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String n = Integer.toString(i);
            String script = "touch " + barrier + "/" + n + "; while [ $(ls " + barrier + " | wc -l) -lt 8 ]; do sleep 0.02; done;"
                    + " echo " + n + "; exit " + n;
            all.add(CompletableFuture.supplyAsync(() -> run("sh", "-c", script)));
        }
        for (int i = 0; i < 8; i++) {
            ExecResult r = all.get(i).get(30, TimeUnit.SECONDS);
            assertThat(r.exitCode()).isEqualTo(i);
            assertThat(r.stdout()).isEqualTo(i + "\n");
        }
    }

    @Test
    void copiesFilesAndTreesBothWaysWithModesAndSymlinks() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/sub/deeper"));
        Files.writeString(dir.resolve("src/a.txt"), "alpha");
        Path script = Files.writeString(dir.resolve("src/sub/run.sh"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-x---"));
        Files.write(dir.resolve("src/sub/deeper/empty"), new byte[0]);
        Files.createSymbolicLink(dir.resolve("src/link"), Path.of("a.txt"));
        Files.setPosixFilePermissions(dir.resolve("src/sub/deeper"), PosixFilePermissions.fromString("rwx------"));

        Path guestSide = Files.createDirectories(dir.resolve("guest"));
        client.upload(dir.resolve("src"), guestSide.toString(), T);
        Path landed = guestSide.resolve("src");
        assertThat(landed.resolve("a.txt")).hasContent("alpha");
        assertThat(Files.getPosixFilePermissions(landed.resolve("sub/run.sh"))).isEqualTo(PosixFilePermissions.fromString("rwxr-x---"));
        assertThat(Files.getPosixFilePermissions(landed.resolve("sub/deeper"))).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.readSymbolicLink(landed.resolve("link"))).isEqualTo(Path.of("a.txt"));
        assertThat(landed.resolve("sub/deeper/empty")).isEmptyFile();

        Path back = dir.resolve("back");
        client.download(landed.toString(), back, T);
        assertThat(back.resolve("a.txt")).hasContent("alpha");
        assertThat(Files.getPosixFilePermissions(back.resolve("sub/run.sh"))).isEqualTo(PosixFilePermissions.fromString("rwxr-x---"));
        assertThat(Files.isSymbolicLink(back.resolve("link"))).isTrue();

        Path single = dir.resolve("single.bin");
        client.download(landed.resolve("a.txt").toString(), single, T);
        assertThat(single).hasContent("alpha");
        client.upload(single, guestSide.resolve("renamed.txt").toString(), T);
        assertThat(guestSide.resolve("renamed.txt")).hasContent("alpha");
    }

    @Test
    void copiesLargeFilesIntact() throws Exception {
        byte[] block = new byte[1 << 20];
        new java.util.Random(7).nextBytes(block);
        Path big = dir.resolve("big.bin");
        try (OutputStream out = Files.newOutputStream(big)) {
            for (int i = 0; i < 20; i++) {
                out.write(block);
            }
        }
        Path guestCopy = dir.resolve("guest-big.bin");
        assertThat(client.upload(big, guestCopy.toString(), T)).isEqualTo(20L << 20);
        Path back = dir.resolve("back-big.bin");
        assertThat(client.download(guestCopy.toString(), back, T)).isEqualTo(20L << 20);
        assertThat(dev.smartvm.internal.io.Hashing.sha256(back)).isEqualTo(dev.smartvm.internal.io.Hashing.sha256(big));
    }

    @Test
    void missingPathsAreClearErrors() throws Exception {
        assertThatThrownBy(() -> client.download("/no/such/file", dir.resolve("x"), T))
                .isInstanceOf(SmartVmException.class)
                .satisfies(e -> assertThat(((SmartVmException) e).code()).isEqualTo(ErrorCode.PATH_NOT_FOUND));
        assertThat(dir.resolve("x")).doesNotExist();
        Path f = Files.writeString(dir.resolve("f"), "x");
        assertThatThrownBy(() -> client.upload(f, "/no/such/dir/f", T))
                .isInstanceOf(SmartVmException.class)
                .hasMessageContaining("/no/such/dir/f");
        assertThatThrownBy(() -> client.upload(dir.resolve("absent"), "/tmp/x", T))
                .satisfies(e -> assertThat(((SmartVmException) e).code()).isEqualTo(ErrorCode.PATH_NOT_FOUND));
        assertThat(run("true").exitCode()).as("the connection survives failed copies").isZero();
    }

    @Test
    void aNewConnectionAfterADisconnectStartsClean() throws Exception {
        try (ExecProcess p = client.start(new ExecRequest(List.of("sleep", "30"), PATH, null, null, null, -1), false, null, null)) {
            ((ExecChannel) p).awaitPid(T);
            client.close();
            client = agent.connect();
            assertThat(run("echo", "again").stdout()).isEqualTo("again\n");
        }
    }

    @Test
    void pingAnswers() {
        assertThat(client.ping(T)).isPositive();
    }

    @Test
    void keepsModesOfSingleFiles() throws Exception {
        Path f = Files.writeString(dir.resolve("ro.txt"), "r");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--r-----"));
        Path target = dir.resolve("copied.txt");
        client.upload(f, target.toString(), T);
        assertThat(Files.getPosixFilePermissions(target, LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(PosixFilePermissions.fromString("r--r-----"));
    }

    @Test
    void aRequestLargerThanAFrameIsRefusedAndTheSessionGoesOn() {
        String big = "x".repeat(300 * 1024);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> run("echo", big))
                .isInstanceOf(SmartVmException.class)
                .hasMessageContaining("at most 262144")
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThatThrownBy(() -> client.run(new ExecRequest(List.of("true"), Map.of("PATH", "/usr/bin:/bin", "BIG", big),
                null, null, null, -1))).isInstanceOf(SmartVmException.class).hasMessageContaining("environment");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        assertThat(run("echo", "still", "here").stdout()).isEqualTo("still here\n");
    }

    @Test
    void collectedOutputHasOneLimitForBothStreamsAndKillsTheFlood() {
        long mib = AgentClient.MAX_COLLECTED_OUTPUT / (1024 * 1024);
        String half = "head -c " + (mib / 2 + 1) + "M /dev/zero";
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> run("sh", "-c", half + "; " + half + " >&2; sleep 600"))
                .isInstanceOf(SmartVmException.class)
                .hasMessageContaining("stdout and stderr together")
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.OUTPUT_TOO_LARGE);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("killed, not waited for").isLessThan(Duration.ofSeconds(50));
        ExecResult justUnder = run("sh", "-c", "head -c " + (mib / 2 - 1) + "M /dev/zero; head -c " + (mib / 2 - 1)
                + "M /dev/zero >&2");
        assertThat(justUnder.stdoutBytes().length + justUnder.stderrBytes().length)
                .isEqualTo(2 * (mib / 2 - 1) * 1024 * 1024);
    }

    @Test
    void pseudoFilesAreCopiedWithWhatTheyHoldAndDevicesAreRefused() throws Exception {
        client.download("/proc/meminfo", dir.resolve("meminfo"), T);
        assertThat(Files.readString(dir.resolve("meminfo"))).contains("MemTotal:");
        Path empty = Files.createFile(dir.resolve("empty"));
        client.download(empty.toString(), dir.resolve("empty-copy"), T);
        assertThat(dir.resolve("empty-copy")).isEmptyFile();
        assertThatThrownBy(() -> client.download("/dev/zero", dir.resolve("zero"), T))
                .isInstanceOf(SmartVmException.class)
                .hasMessageContaining("/dev/zero is a character device")
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED);
        assertThat(dir.resolve("zero")).doesNotExist();
    }

    @Test
    void fileNamesThatAreNotUtf8AreRefusedNotMerged() throws Exception {
        Path tree = dir.resolve("bytes");
        assertThat(run("sh", "-c", "mkdir " + tree + " && cd " + tree + " && touch \"x$(printf '\\377')\" \"x$(printf '\\376')\"")
                .exitCode()).isZero();
        Path target = dir.resolve("copied");
        assertThatThrownBy(() -> client.download(tree.toString(), target, T))
                .isInstanceOf(SmartVmException.class)
                .hasMessageContaining("not valid UTF-8")
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED);
        try (var left = Files.list(target)) {
            assertThat(left.toList()).as("no file was written under a mangled name").isEmpty();
        }
    }

    /** Sends raw frames on a session of its own: u32 length, u32 id, u8 type, payload. */
    private static void rawFrame(java.nio.channels.SocketChannel ch, int id, int type, byte[] payload) throws java.io.IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(9 + payload.length);
        b.putInt(payload.length).putInt(id).put((byte) type).put(payload).flip();
        write(ch, b.array());
    }

    @Test
    void anUploadCutShortLeavesNoFileUnderItsName() throws Exception {
        Path target = dir.resolve("incoming");
        Files.writeString(target, "the good old content");
        client.close();
        try (java.nio.channels.SocketChannel ch = dev.smartvm.internal.io.UnixSockets.connect(agent.socket(),
                System.nanoTime() + T.toNanos(), () -> true)) {
            write(ch, preamble((byte) 3));
            frame(ch, new int[2]);
            rawFrame(ch, 7, FrameType.PUT, new PayloadWriter().str(target.toString()).str("").toByteArray());
            rawFrame(ch, 7, FrameType.ENTRY, new PayloadWriter().u8(FrameType.ENTRY_FILE).u32(0644).u64(1000).str("").str("")
                    .toByteArray());
            rawFrame(ch, 7, FrameType.DATA, "only ten b".getBytes(StandardCharsets.UTF_8));
            rawFrame(ch, 1, FrameType.PING, new byte[0]); // answered only after the agent has taken the data
            int[] ti = new int[2];
            frame(ch, ti);
            assertThat(ti[0]).isEqualTo(FrameType.PONG);
            try (var parts = Files.list(dir)) {
                assertThat(parts.map(p -> p.getFileName().toString()).filter(n -> n.contains("smartvm-part")).toList())
                        .as("the data goes to a part file meanwhile").hasSize(1);
            }
        } // the host goes away mid-file
        client = agent.connect(); // the agent has dropped the old session once it answers a new one
        assertThat(Files.readString(target)).as("the old file is untouched").isEqualTo("the good old content");
        try (var parts = Files.list(dir)) {
            assertThat(parts.map(p -> p.getFileName().toString()).filter(n -> n.contains("smartvm-part")).toList())
                    .as("and the part file is gone").isEmpty();
        }
        Path fresh = Files.writeString(dir.resolve("fresh"), "new");
        client.upload(fresh, target.toString(), T);
        assertThat(Files.readString(target)).as("a complete upload replaces it").isEqualTo("new");
    }

    @Test
    void severalHostsAtOnceEachHaveASessionOfTheirOwn() throws Exception {
        try (ExecProcess longRunning = client.start(new ExecRequest(List.of("sleep", "30"), PATH, null, null, null, -1), false,
                null, null)) {
            ((ExecChannel) longRunning).awaitPid(T);
            List<AgentClient> others = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    others.add(agent.connect());
                }
                List<CompletableFuture<String>> outs = new ArrayList<>();
                for (int i = 0; i < others.size(); i++) {
                    AgentClient c = others.get(i);
                    String word = "host" + i;
                    outs.add(CompletableFuture.supplyAsync(() -> c.run(new ExecRequest(List.of("echo", word), PATH, null,
                            null, null, -1)).stdout()));
                }
                for (int i = 0; i < outs.size(); i++) {
                    assertThat(outs.get(i).get(30, TimeUnit.SECONDS)).isEqualTo("host" + i + "\n");
                }
                assertThat(((ExecChannel) longRunning).hasEnded()).as("the first host's exec still runs").isFalse();
                others.remove(0).close(); // one host leaving ends only its own requests
                assertThat(others.get(0).run(new ExecRequest(List.of("echo", "still"), PATH, null, null, null, -1)).stdout())
                        .isEqualTo("still\n");
                assertThat(((ExecChannel) longRunning).hasEnded()).isFalse();
            } finally {
                others.forEach(AgentClient::close);
            }
        }
    }

    @Test
    void hostFileNamesThatAreNotUtf8AreRefusedBeforeAnythingIsSent() throws Exception {
        Path tree = Files.createDirectory(dir.resolve("host-bytes"));
        Process p = new ProcessBuilder("sh", "-c", "touch \"x$(printf '\\377')\" \"x$(printf '\\376')\" ok")
                .directory(tree.toFile()).start();
        assertThat(p.waitFor()).isZero();
        Path guestTarget = dir.resolve("guest-side");
        assertThatThrownBy(() -> client.upload(tree, guestTarget.toString(), T))
                .isInstanceOf(SmartVmException.class)
                .hasMessageContaining("not valid UTF-8")
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED);
        assertThat(guestTarget).as("nothing reached the guest").doesNotExist();
        assertThat(run("true").exitCode()).isZero();
    }
}

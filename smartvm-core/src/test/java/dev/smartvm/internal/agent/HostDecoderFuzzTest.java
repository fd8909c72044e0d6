package dev.smartvm.internal.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecRequest;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.FileTrees;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes the host's decoder of guest output: whatever bytes a guest sends, the host throws
 * nothing but {@link SmartVmException}, writes nothing outside a copy's target, and every
 * request it had open gets an outcome when the stream ends. The inputs are real agent sessions
 * (recorded at the start from the real agent binary) with bytes flipped, cut and repeated, and
 * frames built from the protocol's own types with random ids and payloads.
 *
 * <p>The test command runs jqwik's default number of tries; {@code bench/fuzz} runs millions
 * ({@code -Djqwik.tries.default=N}).
 */
class HostDecoderFuzzTest {
    private static final int MAX_PAYLOAD = 256 * 1024;
    private static final int WINDOW = 1024 * 1024;
    private static final int EXEC_ID = 1;
    private static final int GET_ID = 2;
    private static final List<byte[]> SEEDS = new ArrayList<>();
    private static Path scratch;

    /** What the sink side of a fuzzed connection writes goes nowhere. */
    private static final GatheringByteChannel DISCARD = new GatheringByteChannel() {
        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += srcs[i].remaining();
                srcs[i].position(srcs[i].limit());
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    };

    @BeforeContainer
    static void recordRealSessions() throws Exception {
        scratch = Files.createTempDirectory("host-fuzz");
        Path agentDir = Files.createDirectory(scratch.resolve("agent"));
        Path tree = Files.createDirectories(scratch.resolve("tree/sub"));
        Files.writeString(tree.resolve("file"), "some file content\n");
        Files.writeString(tree.getParent().resolve("top"), "x".repeat(70_000)); // two DATA frames
        Files.createSymbolicLink(tree.resolve("link"), Path.of("../top"));
        try (ListeningAgent agent = new ListeningAgent(agentDir)) {
            SEEDS.add(record(agent, new PayloadWriter().u32(0).u32(0xffffffffL).u32(0xffffffffL).u32(0).str("")
                    .strs(List.of("sh", "-c", "echo out; echo err >&2; head -c 100000 /dev/zero; exit 3"))
                    .strs(List.of("PATH=/usr/bin:/bin")).toByteArray(), tree.getParent().toString()));
            SEEDS.add(record(agent, new PayloadWriter().u32(0).u32(0xffffffffL).u32(0xffffffffL).u32(100).str("/")
                    .strs(List.of("sleep", "5")).strs(List.of()).toByteArray(), tree.resolve("file").toString()));
            SEEDS.add(record(agent, new PayloadWriter().u32(0).u32(0xffffffffL).u32(0xffffffffL).u32(0).str("")
                    .strs(List.of("no-such-command")).strs(List.of()).toByteArray(), "/no/such/path"));
        }
    }

    /** One session: an EXEC (id 1) and a GET (id 2); everything the agent answered after its HELLO. */
    private static byte[] record(ListeningAgent agent, byte[] exec, String getPath) throws IOException {
        try (SocketChannel ch = dev.smartvm.internal.io.UnixSockets.connect(agent.socket(),
                System.nanoTime() + Duration.ofSeconds(10).toNanos(), () -> true)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(FrameType.MAGIC);
            out.writeBytes(new byte[FrameType.NONCE_LENGTH]);
            out.writeBytes(new PayloadWriter().u32(FrameType.VERSION).toByteArray());
            frame(out, EXEC_ID, FrameType.EXEC, exec);
            frame(out, GET_ID, FrameType.GET, new PayloadWriter().str(getPath).toByteArray());
            ch.write(ByteBuffer.wrap(out.toByteArray()));
            var in = new java.io.DataInputStream(Channels.newInputStream(ch));
            ByteArrayOutputStream session = new ByteArrayOutputStream();
            boolean exited = false;
            boolean copied = false;
            while (!exited || !copied) {
                int len = in.readInt();
                int id = in.readInt();
                int type = in.readUnsignedByte();
                byte[] payload = in.readNBytes(len);
                if (type != FrameType.HELLO) {
                    frame(session, id, type, payload);
                }
                exited |= id == EXEC_ID && (type == FrameType.EXIT || type == FrameType.ERROR);
                copied |= id == GET_ID && (type == FrameType.END || type == FrameType.ERROR);
            }
            return session.toByteArray();
        }
    }

    private static void frame(ByteArrayOutputStream out, int id, int type, byte[] payload) {
        out.writeBytes(new PayloadWriter().u32(payload.length).u32(id).u8(type).toByteArray());
        out.writeBytes(payload);
    }

    @AfterContainer
    static void cleanUp() throws IOException {
        FileTrees.delete(scratch);
    }

    @Property
    void whateverTheGuestSendsTheHostStaysInItsBounds(@ForAll("guestOutput") byte[] stream) throws IOException {
        Path root = Files.createDirectories(scratch.resolve("try")); // one directory for every try: cheaper than one each
        Path target = root.resolve("copy");
        try {
            AgentConnection c = AgentConnection.overStreams(Channels.newChannel(new ByteArrayInputStream(stream)), DISCARD,
                    MAX_PAYLOAD, WINDOW);
            ExecChannel exec = new ExecChannel(c, new PipeSink(), new PipeSink(), true, false);
            exec.start(AgentClient.encode(ExecRequest.of("x"), true), Duration.ofHours(1));
            TreeDownload download = new TreeDownload(c, target);
            download.begin("/x");
            c.readUntilEnd(); // returns: the stream ends, or the first violation ends the connection

            assertThat(c.isOpen()).as("the end of the stream closes the connection").isFalse();
            assertHasOutcome(() -> exec.waitFor(Duration.ofMillis(1)));
            assertHasOutcome(() -> download.await(Duration.ofMillis(1)));
            try (Stream<Path> written = Files.list(root); Stream<Path> above = Files.list(scratch)) {
                assertThat(written.filter(p -> !p.equals(target)).toList()).as("nothing written beside the copy's target")
                        .isEmpty();
                assertThat(above.map(p -> p.getFileName().toString()).toList()).as("nor above it")
                        .containsExactlyInAnyOrder("try", "agent", "tree");
            }
        } finally {
            try (Stream<Path> left = Files.list(root)) {
                for (Path p : left.toList()) {
                    FileTrees.delete(p);
                }
            }
        }
    }

    /** The request ended, well or with a SmartVmException, and did not still wait (TIMEOUT). */
    private static void assertHasOutcome(Runnable waiting) {
        try {
            waiting.run();
        } catch (SmartVmException e) {
            assertThat(e.code()).as(e.getMessage()).isNotEqualTo(ErrorCode.TIMEOUT);
        }
    }

    @Provide
    Arbitrary<byte[]> guestOutput() {
        return Arbitraries.oneOf(mutatedSeeds(), builtFrames(), Arbitraries.bytes().array(byte[].class).ofMaxSize(2048));
    }

    /** A recorded session with bytes flipped, a part cut out or repeated, or cut short. */
    private Arbitrary<byte[]> mutatedSeeds() {
        Arbitrary<byte[]> seed = Arbitraries.of(SEEDS);
        Arbitrary<Integer> at = Arbitraries.integers().between(0, Integer.MAX_VALUE);
        return Combinators.combine(seed, at, at, Arbitraries.integers().between(0, 4), Arbitraries.bytes())
                .as((s, a, b, how, value) -> {
                    byte[] out = s.clone();
                    if (out.length == 0) {
                        return out;
                    }
                    int i = a % out.length;
                    int j = b % out.length;
                    return switch (how) {
                        case 0 -> { // one byte changed
                            out[i] = value;
                            yield out;
                        }
                        case 1 -> java.util.Arrays.copyOf(out, i); // cut short
                        case 2 -> { // a stretch removed
                            ByteArrayOutputStream o = new ByteArrayOutputStream();
                            o.write(out, 0, Math.min(i, j));
                            o.write(out, Math.max(i, j), out.length - Math.max(i, j));
                            yield o.toByteArray();
                        }
                        case 3 -> { // a stretch repeated
                            ByteArrayOutputStream o = new ByteArrayOutputStream();
                            o.write(out, 0, Math.max(i, j));
                            o.write(out, Math.min(i, j), out.length - Math.min(i, j));
                            yield o.toByteArray();
                        }
                        default -> { // a length field of some frame made huge or negative
                            ByteBuffer.wrap(out).putInt(Math.min(i, Math.max(0, out.length - 4)), value * 0x01010101);
                            yield out;
                        }
                    };
                });
    }

    /** Frames of the protocol's types with payloads both well-formed and not. */
    private Arbitrary<byte[]> builtFrames() {
        Arbitrary<Integer> id = Arbitraries.oneOf(Arbitraries.of(0, EXEC_ID, GET_ID, 3), Arbitraries.integers());
        Arbitrary<Integer> type = Arbitraries.oneOf(Arbitraries.of(FrameType.STARTED, FrameType.STDOUT, FrameType.STDERR,
                FrameType.EXIT, FrameType.OK, FrameType.ERROR, FrameType.PONG, FrameType.WINDOW, FrameType.ENTRY,
                FrameType.DATA, FrameType.END, FrameType.HELLO), Arbitraries.integers().between(0, 255));
        Arbitrary<String> rel = Arbitraries.of("", "a", "a/b", "..", "../x", "a/../b", "/abs", "a//b", ".", "a/", "x\0y",
                "sub/file", "link/evil");
        Arbitrary<byte[]> payload = Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofMaxSize(600),
                Combinators.combine(Arbitraries.integers().between(1, 3), Arbitraries.integers(), Arbitraries.longs()
                        .between(-1, 200_000), rel, rel)
                        .as((kind, mode, size, r, link) -> new PayloadWriter().u8(kind).u32(mode).u64(size).str(r).str(link)
                                .toByteArray()),
                Combinators.combine(Arbitraries.integers(), Arbitraries.integers(), Arbitraries.integers().between(0, 1))
                        .as((code, sig, timedOut) -> new PayloadWriter().u32(code).u32(sig).u8(timedOut).toByteArray()),
                Arbitraries.integers().map(n -> new PayloadWriter().u32(n).toByteArray()));
        Arbitrary<byte[]> oneFrame = Combinators.combine(id, type, payload).as((i, t, p) -> {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            frame(o, i, t, p);
            return o.toByteArray();
        });
        return oneFrame.list().ofMaxSize(40).map(frames -> {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            frames.forEach(o::writeBytes);
            return o.toByteArray();
        });
    }

    @Property(tries = 50)
    void aRecordedSessionDecodesCleanly(@ForAll("seedIndex") int seed) throws IOException {
        whateverTheGuestSendsTheHostStaysInItsBounds(SEEDS.get(seed)); // the corpus itself is valid input
    }

    @Provide
    Arbitrary<Integer> seedIndex() {
        return Arbitraries.integers().between(0, SEEDS.size() - 1);
    }
}

package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.internal.io.FileTrees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The agent's libFuzzer target in the test command: it builds it (clang), records a seed corpus
 * from real host sessions with the real agent, replays every input that once broke it
 * ({@code smartvm-agent/src/fuzz/regressions}), then fuzzes for 20 seconds under ASan, UBSan
 * and LeakSanitizer. {@code bench/fuzz} is the long run.
 */
@Tag("integration")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AgentFuzzIT {
    private static final Path AGENT_MODULE = Path.of("..", "smartvm-agent").toAbsolutePath().normalize();
    private static final Path FUZZER = AGENT_MODULE.resolve("target/fuzz/agent-fuzz");

    private static String run(Path dir, List<String> argv, int expected) throws Exception {
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(4, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", argv) + ":\n" + tail(out)).isEqualTo(expected);
        return out;
    }

    private static String tail(String s) {
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }

    private static Path openDir(Path dir) throws IOException {
        FileTrees.delete(dir);
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx")); // the fuzzer runs as nobody
        return dir;
    }

    @Test
    void theAgentSurvivesFuzzedHostInput() throws Exception {
        Process probe = new ProcessBuilder("sh", "-c", "echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }'"
                + " | clang -x c -fsanitize=fuzzer,address -o /dev/null -").start();
        Assumptions.assumeTrue(probe.waitFor() == 0,
                "clang with libFuzzer is not installed (bin/test installs clang and its libFuzzer as root)");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "the fuzz target drops to nobody, which needs root");
        run(AGENT_MODULE, List.of("make", "-s", "fuzz"), 0);

        Path work = Path.of("target").toAbsolutePath();
        Path corpus = openDir(work.resolve("fuzz-corpus/agent"));
        Path artifacts = openDir(work.resolve("fuzz-artifacts"));
        dev.smartvm.internal.agent.AgentSessionRecorder.record(Files.createTempDirectory("recording"), corpus);
        try (Stream<Path> seeds = Files.list(corpus)) {
            assertThat(seeds.count()).as("sessions recorded").isGreaterThanOrEqualTo(2);
        }

        List<String> replay = new ArrayList<>(List.of(FUZZER.toString()));
        try (Stream<Path> kept = Files.list(AGENT_MODULE.resolve("src/fuzz/regressions"))) {
            kept.filter(f -> !f.getFileName().toString().endsWith(".md")).forEach(f -> replay.add(f.toString()));
        }
        run(artifacts, replay, 0);

        String out = run(artifacts, List.of(FUZZER.toString(), "-max_total_time=20", "-timeout=10", "-rss_limit_mb=1024",
                "-artifact_prefix=" + artifacts + "/", corpus.toString()), 0);
        assertThat(out).contains("Done");
    }
}

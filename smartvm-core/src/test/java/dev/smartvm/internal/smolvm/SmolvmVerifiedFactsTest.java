package dev.smartvm.internal.smolvm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The fake smolvm against each fact of "Verified against the source at tag v1.9.3" in
 * {@code shared/specs/smolvm/CLI-REFERENCE.md}, one test per paragraph of that section: the fake
 * is the contract the backend is held to, so it must say and do what smolvm 1.9.3 does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SmolvmVerifiedFactsTest {
    private Path dir;
    private Path smolvm;

    /** What one smolvm command did. */
    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    void install() throws IOException {
        dir = Files.createTempDirectory("smolvm-facts");
        smolvm = FakeSmolvm.install(dir.resolve("bin"), dir.resolve("data"));
    }

    @AfterAll
    void removeAll() throws IOException {
        JsonNode left = Json.MAPPER.readTree(run("machine", "ls", "--json").out());
        for (JsonNode m : left) {
            run("machine", "delete", "-f", "--name", m.path("name").asText());
        }
        FileTrees.delete(dir);
        assertThat(left).as("machines left by a test").isEmpty();
    }

    private Run run(String... args) {
        return run(Map.of(), null, args);
    }

    /** smolvm with {@code args}, extra environment and stdin ({@code null}: none, at once closed). */
    private Run run(Map<String, String> env, String stdin, String... args) {
        List<String> argv = new ArrayList<>(List.of(smolvm.toString()));
        argv.addAll(List.of(args));
        try {
            ProcessBuilder pb = new ProcessBuilder(argv);
            pb.environment().putAll(env);
            Process p = pb.start();
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("smolvm " + String.join(" ", args) + " did not end");
            }
            return new Run(p.exitValue(), new String(out.join(), StandardCharsets.UTF_8), new String(err.join(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static byte[] readAll(java.io.InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A running image machine of its own, with a network (an image machine needs one). */
    private String running(String name) {
        assertThat(run("machine", "create", "--name", name, "-I", "alpine:3.20", "--net").exit()).isZero();
        assertThat(run("machine", "start", "--name", name).exit()).isZero();
        return name;
    }

    private void delete(String name) {
        assertThat(run("machine", "delete", "-f", "--name", name).exit()).isZero();
    }

    @Test
    void errorsAndExitCodes() {
        for (String[] call : List.of(new String[] {"machine", "exec", "--name", "nobox", "--", "true"},
                new String[] {"machine", "cp", "/etc/hostname", "nobox:/tmp/x"}, new String[] {"machine", "start", "--name", "nobox"},
                new String[] {"machine", "stop", "--name", "nobox"}, new String[] {"machine", "status", "--name", "nobox"})) {
            Run r = run(call);
            assertThat(r.exit()).as(String.join(" ", call)).isEqualTo(1);
            assertThat(r.err()).as(String.join(" ", call)).isEqualTo("Error: vm not found: nobox\n");
        }
        assertThat(run("machine", "status", "--name", "nobox", "--json").err())
                .isEqualTo("Error: config operation failed: machine status: machine 'nobox' not found\n");

        assertThat(run("machine", "create", "--name", "halted", "-I", "alpine:3.20", "--net").exit()).isZero();
        Run stopped = run("machine", "exec", "--name", "halted", "--", "true");
        assertThat(stopped.exit()).isEqualTo(1);
        assertThat(stopped.err()).isEqualTo("Error: agent operation failed: connect: machine 'halted' is not running. Use"
                + " 'smolvm machine start --name halted' first.\n");
        assertThat(status("halted").path("state").asText()).as("never started by an exec").isEqualTo("created");
        Run stopAgain = run("machine", "stop", "--name", "halted");
        assertThat(stopAgain.exit()).isZero();
        assertThat(stopAgain.out()).isEqualTo("Machine 'halted' is not running (state: created)\n");
        assertThat(run("machine", "exec", "--bogus", "--name", "halted", "--", "true").exit()).as("clap's usage error").isEqualTo(2);
        delete("halted");
    }

    private JsonNode status(String name) {
        try {
            return Json.MAPPER.readTree(run("machine", "status", "--name", name, "--json").out());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void create() {
        Run unnamed = run("machine", "create", "-I", "alpine:3.20", "--net");
        assertThat(unnamed.exit()).as("--name is optional").isZero();
        JsonNode made = Json.MAPPER.valueToTree(List.of()); // the one machine that is neither of this class's others
        try {
            for (JsonNode m : Json.MAPPER.readTree(run("machine", "ls", "--json").out())) {
                if (m.path("name").asText().startsWith("vm-")) {
                    made = m;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(made.path("cpus").asInt()).isEqualTo(4);
        assertThat(made.path("memory_mib").asInt()).isEqualTo(8192);
        delete(made.path("name").asText());

        Run noNet = run("machine", "create", "--name", "offline", "-I", "alpine:3.20");
        assertThat(noNet.exit()).as("since 1.7.3: an image machine pulls from inside, so it needs a network").isEqualTo(1);
        assertThat(noNet.err()).startsWith("Error: machine create -I alpine:3.20 needs network access to pull the image");
        assertThat(run("machine", "create", "--name", "offline", "-I", "alpine:3.20", "--allow-cidr", "10.0.0.0/8").exit())
                .as("an egress flag is a network").isZero();
        delete("offline");
    }

    @Test
    void exec() throws IOException {
        String m = running("execbox");
        assertThat(run(Map.of(), "from the host\n", "machine", "exec", "--name", m, "--", "cat").out())
                .as("no -i: the guest's stdin is /dev/null").isEmpty();
        assertThat(run(Map.of(), "from the host\n", "machine", "exec", "--name", m, "-i", "--", "cat").out())
                .isEqualTo("from the host\n");
        Run blocked = run(Map.of(), "never read\n", "machine", "exec", "--name", m, "--stream", "--timeout", "1s", "--", "cat");
        assertThat(blocked.exit()).as("--stream without -i: a pipe never closed, so cat waits").isEqualTo(124);
        assertThat(blocked.out()).isEmpty();

        Run slow = run("machine", "exec", "--name", m, "--timeout", "1s", "--", "sh", "-c", "echo started >&2; exec sleep 30");
        assertThat(slow.exit()).isEqualTo(124);
        assertThat(slow.err()).isEqualTo("started\n\ncommand timed out after 1000ms");

        Run missing = run("machine", "exec", "--name", m, "--", "no-such-program");
        assertThat(missing.exit()).as("not 127").isEqualTo(1);
        assertThat(missing.err()).startsWith("Error: agent operation failed: vm exec: failed to spawn command: ");
        Run badDir = run("machine", "exec", "--name", m, "-w", "/no/such/dir", "--", "true");
        assertThat(badDir.exit()).isEqualTo(1);
        assertThat(badDir.err()).startsWith("Error: agent operation failed: vm exec: failed to spawn command: ");

        String big = "head -c " + (FakeSmolvm.COLLECTED_LIMIT + 1) + " /dev/zero";
        Run tooMuch = run("machine", "exec", "--name", m, "--", "sh", "-c", big);
        assertThat(tooMuch.exit()).isEqualTo(1);
        assertThat(tooMuch.out()).as("an error, not a cut result").isEmpty();
        assertThat(tooMuch.err()).contains("output exceeds 11 MiB");
        assertThat(run("machine", "exec", "--name", m, "--stream", "--", "sh", "-c", big + " | wc -c").out().strip())
                .isEqualTo(Integer.toString(FakeSmolvm.COLLECTED_LIMIT + 1));

        assertThat(run(Map.of("FROM_HOST", "host value"), null, "machine", "exec", "--name", m, "-e", "FROM_HOST", "-e", "",
                "-e", "=x", "-e", "SET=1", "--", "sh", "-c", "echo \"$FROM_HOST/$SET\"").out())
                .as("-e KEY: the host's value").isEqualTo("host value/1\n");
        delete(m);
    }

    @Test
    void cp() throws IOException {
        String m = running("cpbox");
        Path guest = Files.createDirectories(dir.resolve("guest"));
        Path file = Files.writeString(dir.resolve("file.txt"), "payload");
        Run intoDir = run("machine", "cp", file.toString(), m + ":" + guest);
        assertThat(intoDir.exit()).as("no /dir/<basename>: the upload fails").isEqualTo(1);
        assertThat(intoDir.err()).contains("Is a directory");
        assertThat(run("machine", "cp", file.toString(), m + ":" + guest.resolve("new/deeper/file.txt")).exit())
                .as("parents are made").isZero();
        assertThat(guest.resolve("new/deeper/file.txt")).hasContent("payload");
        String relative = guest.resolve("rel.txt").toString().substring(1);
        assertThat(run("machine", "cp", file.toString(), m + ":" + relative).exit()).as("a leading / is added").isZero();
        assertThat(guest.resolve("rel.txt")).hasContent("payload");
        assertThat(run("machine", "cp", file.toString(), m + ":" + guest + "/../escape.txt").err()).contains("'.' and '..'");

        Path colon = Files.writeString(dir.resolve("a:b.txt"), "colon");
        Run taken = run("machine", "cp", colon.toString(), m + ":" + guest.resolve("c.txt"));
        assertThat(taken.exit()).as("a host path with ':' is taken for a machine's").isEqualTo(1);
        assertThat(taken.err()).isEqualTo("Error: vm not found: " + dir.resolve("a") + "\n");

        Path hostDir = Files.createDirectories(dir.resolve("hostdir"));
        Run downIntoDir = run("machine", "cp", m + ":" + guest.resolve("rel.txt"), hostDir.toString());
        assertThat(downIntoDir.exit()).isEqualTo(1);
        assertThat(downIntoDir.err()).isEqualTo("Error: agent operation failed: write local file: " + hostDir
                + ": Is a directory (os error 21)\n");
        assertThat(run("machine", "cp", m + ":" + guest, dir.resolve("x").toString()).err())
                .contains("not a regular file: " + guest);
        delete(m);
    }

    @Test
    void forkNamesItsChildrenAndFreezesItsGolden() {
        assertThat(run("machine", "create", "--name", "gold", "-I", "alpine:3.20", "--net").exit()).isZero();
        assertThat(run("machine", "start", "--name", "gold", "--forkable").exit()).isZero();
        assertThat(run("machine", "exec", "--name", "gold", "--", "smolvm-fork-ready").exit()).isZero();
        assertThat(run("machine", "fork", "--golden", "gold", "--name", "one", "--count", "2").err())
                .contains("--name cannot be used with --count greater than 1; use --name-prefix");
        Run forked = run("machine", "fork", "--golden", "gold", "--name-prefix", "kid", "--count", "2");
        assertThat(forked.exit()).isZero();
        assertThat(forked.out().lines().toList()).containsExactly("kid-0", "kid-1");
        assertThat(status("gold").path("state").asText()).isEqualTo("frozen");
        assertThat(run("machine", "start", "--name", "gold").exit()).as("not while it has clones").isEqualTo(1);

        Run dangling = run("machine", "delete", "-f", "--name", "gold");
        assertThat(dangling.exit()).as("-f deletes a golden with clones").isZero();
        assertThat(run("machine", "exec", "--name", "kid-0", "--", "true").err()).contains("disk overlay is gone");
        delete("kid-0");
        delete("kid-1");
    }

    @Test
    void deleteAsksOnStdinAndCascades() {
        String m = running("asked");
        Run cancelled = run(Map.of(), null, "machine", "delete", "--name", m);
        assertThat(cancelled.exit()).isZero();
        assertThat(cancelled.out()).contains("Cancelled");
        assertThat(status(m).path("state").asText()).as("kept, but stopped before the question").isEqualTo("stopped");
        assertThat(run(Map.of(), "yes\n", "machine", "delete", "--name", m).exit()).isZero();
        assertThat(run("machine", "status", "--name", m).err()).isEqualTo("Error: vm not found: asked\n");

        assertThat(run("machine", "create", "--name", "gold2", "-I", "alpine:3.20", "--net").exit()).isZero();
        assertThat(run("machine", "start", "--name", "gold2", "--forkable").exit()).isZero();
        assertThat(run("machine", "exec", "--name", "gold2", "--", "smolvm-fork-ready").exit()).isZero();
        assertThat(run("machine", "fork", "--golden", "gold2", "--name", "child").exit()).isZero();
        assertThat(run("machine", "delete", "-f", "--cascade", "--name", "gold2").exit()).isZero();
        assertThat(run("machine", "status", "--name", "child").err()).as("--cascade takes its clones").contains("vm not found");
    }

    @Test
    void statusJsonHasTheFieldsOf193AndStateLivesUnderTheDataDirsHome() throws IOException {
        String m = running("fields");
        JsonNode s = status(m);
        List<String> names = new ArrayList<>();
        s.fieldNames().forEachRemaining(names::add);
        assertThat(names).contains("name", "state", "cpus", "memory_mib", "pid", "mounts", "ports", "created_at", "storage_gb",
                "overlay_gb", "image", "entrypoint", "cmd", "ephemeral", "gpu", "gpu_vram_mib", "cuda", "forkable",
                "cuda_fork_pool_size", "cuda_vram_limit_mib", "forkpoint_held", "labels", "network");
        assertThat(names).anyMatch(n -> n.startsWith("restart_")).anyMatch(n -> n.startsWith("health_"));
        assertThat(s.path("state").asText()).isIn("created", "running", "stopped", "failed", "unreachable", "frozen");
        assertThat(dir.resolve("data/.local/share/smolvm/machines/fields.json")).isRegularFile();
        delete(m);
    }

    @Test
    void theMetadataRangeIsReachableOnlyWithAllowPrivate() {
        String m = running("private");
        assertThat(status(m).at("/network/metadata_reachable").asBoolean()).isFalse();
        run("machine", "stop", "--name", m);
        assertThat(run(Map.of(FakeSmolvm.ALLOW_PRIVATE, "1"), null, "machine", "start", "--name", m).exit()).isZero();
        assertThat(status(m).at("/network/metadata_reachable").asBoolean()).isTrue();
        delete(m);
    }
}

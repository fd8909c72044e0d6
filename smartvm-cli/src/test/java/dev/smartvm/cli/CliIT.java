package dev.smartvm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.EnabledIfQemuAvailable;
import dev.smartvm.RealVmTest;
import dev.smartvm.internal.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The CLI as a user runs it: the shaded jar in its own process, state in its own SMARTVM_HOME. */
@Tag("integration")
@EnabledIfQemuAvailable
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class CliIT {
    private Path home;

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
    }

    @BeforeAll
    void makeHome() throws IOException {
        home = Files.createTempDirectory(Path.of("/tmp"), "svc");
    }

    @AfterAll
    void nothingLeft() throws Exception {
        JsonNode left = Json.MAPPER.readTree(smartvm("ls", "--json").out());
        for (JsonNode vm : left) {
            smartvm("rm", "-f", vm.get("name").asText()); // even after a failed test, leave nothing running
        }
        assertThat(left).as("VMs left behind").isEmpty();
        List<String> qemus = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains(home.toString()))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList();
        assertThat(qemus).as("processes left behind").isEmpty();
        try (Stream<Path> all = Files.walk(home)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Environment the next CLI processes get besides the home (set by a test, cleared after it). */
    private final java.util.Map<String, String> extraEnv = new java.util.HashMap<>();

    Result smartvm(String... args) throws Exception {
        return smartvmWithInput(null, args);
    }

    /** The CLI jar with {@code args}, in this class's home, for a process of its own. */
    ProcessBuilder cli(String... args) {
        List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", Path.of("target", "smartvm-cli.jar").toAbsolutePath().toString()));
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().put("SMARTVM_HOME", home.toString());
        pb.environment().put("SMARTVM_IMAGES", RealVmTest.sharedImages().toString());
        return pb;
    }

    Result smartvmWithInput(String stdin, String... args) throws Exception {
        ProcessBuilder pb = cli(args);
        pb.environment().putAll(extraEnv);
        Process p = pb.start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("smartvm " + String.join(" ", args) + " did not finish");
        }
        return new Result(p.exitValue(), out.get(), err.get());
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void runPassesTheExitCodeAndBothStreams() throws Exception {
        Result r = smartvm("run", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.out()).isEqualTo("out\n");
        assertThat(r.err()).contains("err\n").doesNotContain("Exception");
    }

    @Test
    void runAppliesEnvWorkdirAndTimeout() throws Exception {
        Result r = smartvm("run", "-e", "GREETING=hello", "-w", "/tmp", "--timeout", "2s", "--",
                "sh", "-c", "echo $GREETING; pwd; sleep 1000");
        assertThat(r.code()).isEqualTo(124);
        assertThat(r.out()).isEqualTo("hello\n/tmp\n");
    }

    @Test
    void runForwardsStdinWhenAsked() throws Exception {
        Result r = smartvmWithInput("four", "run", "-i", "--", "wc", "-c");
        assertThat(r.code()).isZero();
        assertThat(r.out().strip()).isEqualTo("4");
    }

    @Test
    void unknownGuestCommandIs127() throws Exception {
        Result r = smartvm("run", "--", "no-such-command");
        assertThat(r.code()).isEqualTo(127);
        assertThat(r.err()).contains("no-such-command: No such file or directory");
    }

    @Test
    void badInputGetsACodeAndLeavesNothing() throws Exception {
        assertError(smartvm("run", "--cpus", "0", "--", "true"), 2, "INVALID_ARGUMENT", "cpus must be between 1 and 32");
        assertError(smartvm("run", "--memory", "lots", "--", "true"), 2, "INVALID_ARGUMENT", "lots");
        assertError(smartvm("run", "--timeout", "soon", "--", "true"), 2, "INVALID_ARGUMENT", "soon");
        assertError(smartvm("run", "--image", "nowhere", "--", "true"), 125, "IMAGE_NOT_FOUND", "nowhere");
        assertError(smartvm("run", "-e", "NOEQUALS", "--", "true"), 2, "INVALID_ARGUMENT", "KEY=VALUE");
        assertError(smartvm("exec", "ghost", "--", "true"), 125, "VM_NOT_FOUND", "ghost");
        assertError(smartvm("cp", "a", "b"), 2, "INVALID_ARGUMENT", "NAME:/guest/path");
        assertError(smartvm("frobnicate"), 2, "INVALID_ARGUMENT", "frobnicate");
        assertError(smartvm("run", "-it", "--", "sh"), 2, "INVALID_ARGUMENT", "-t needs a terminal"); // stdin is a pipe here
        assertThat(Json.MAPPER.readTree(smartvm("ls", "--json").out())).isEmpty();
    }

    private static void assertError(Result r, int code, String errorCode, String detail) {
        assertThat(r.code()).as(r.err()).isEqualTo(code);
        assertThat(r.err()).startsWith("error[" + errorCode + "]: ").contains(detail).doesNotContain("\tat ");
    }

    @Test
    void drivesAPersistentVmAcrossProcesses() throws Exception {
        Result created = smartvm("create", "--name", "box", "--memory", "192");
        assertThat(created.code()).as(created.err()).isZero();
        assertThat(created.out().strip()).isEqualTo("box");
        assertError(smartvm("create", "--name", "box"), 125, "NAME_IN_USE", "box");

        JsonNode ls = Json.MAPPER.readTree(smartvm("ls", "--json").out());
        assertThat(ls).hasSize(1);
        assertThat(ls.get(0).get("name").asText()).isEqualTo("box");
        assertThat(ls.get(0).get("state").asText()).isEqualTo("running");
        assertThat(ls.get(0).get("memoryMib").asInt()).isEqualTo(192);
        JsonNode inspect = Json.MAPPER.readTree(smartvm("inspect", "box").out());
        assertThat(inspect.get("state").asText()).isEqualTo("running");
        assertThat(inspect.get("network").get("mode").asText()).isEqualTo("none");
        assertThat(inspect.get("spec").get("memoryMib").asInt()).isEqualTo(192);
        assertError(smartvm("inspect", "nobox"), 125, "VM_NOT_FOUND", "nobox");
        assertError(smartvm("inspect", "--firecracker-config", "box"), 2, "INVALID_ARGUMENT", "runs on qemu, not firecracker");
        assertThat(smartvm("ls", "-q").out()).isEqualTo("box\n");
        String id = ls.get(0).get("id").asText();
        assertThat(smartvm("exec", id.substring(0, 4), "--", "echo", "by-prefix").out()).isEqualTo("by-prefix\n");
        assertError(smartvm("inspect", id.substring(0, 4) + "zz"), 125, "VM_NOT_FOUND", "no VM id starts with it");

        assertThat(smartvm("exec", "-e", "X=1", "box", "--", "sh", "-c", "echo made$X > /tmp/f").code()).isZero();
        assertThat(smartvm("exec", "--user", "65534", "box", "--", "id", "-u").out()).isEqualTo("65534\n");
        assertThat(smartvm("cp", "box:/tmp/f", dir.toString()).code()).isZero();
        assertThat(dir.resolve("f")).hasContent("made1");
        Files.createDirectories(dir.resolve("up/inner"));
        Files.writeString(dir.resolve("up/inner/x.txt"), "uploaded");
        assertThat(smartvm("cp", dir.resolve("up").toString(), "box:/tmp").code()).isZero();
        assertThat(smartvm("exec", "box", "--", "cat", "/tmp/up/inner/x.txt").out()).isEqualTo("uploaded");
        assertError(smartvm("cp", "box:/nope", dir.toString()), 125, "PATH_NOT_FOUND", "/nope");

        assertThat(smartvm("pause", "box").code()).isZero();
        assertError(smartvm("exec", "box", "--", "true"), 125, "INVALID_STATE", "paused");
        assertThat(smartvm("resume", "box").code()).isZero();
        assertThat(smartvm("exec", "box", "--", "cat", "/tmp/f").out()).isEqualTo("made1\n");

        assertThat(smartvm("stop", "box").code()).isZero();
        assertError(smartvm("exec", "box", "--", "true"), 125, "INVALID_STATE", "stopped");
        assertThat(Json.MAPPER.readTree(smartvm("ls", "--json").out()).get(0).get("state").asText()).isEqualTo("stopped");
        assertThat(smartvm("start", "box").code()).isZero();
        assertThat(smartvm("exec", "box", "--", "echo", "back").out()).isEqualTo("back\n");
        assertThat(smartvm("logs", "box").out()).contains("smartvm-agent: ready");

        assertError(smartvm("rm", "box"), 125, "INVALID_STATE", "rm -f");
        assertThat(smartvm("rm", "-f", "box").code()).isZero();
        assertThat(Json.MAPPER.readTree(smartvm("ls", "--json").out())).isEmpty();
    }

    @Test
    void filesAreWrittenReadListedWatchedAndRemoved() throws Exception {
        Result created = smartvm("create", "--name", "files-cli");
        assertThat(created.code()).as(created.err()).isZero();
        try {
            assertThat(smartvm("files", "mkdir", "files-cli", "/tmp/d/e").code()).isZero();
            Result w = smartvmWithInput("from stdin\n", "files", "write", "files-cli", "/tmp/d/e/f.txt");
            assertThat(w.code()).as(w.err()).isZero();
            assertThat(smartvm("files", "cat", "files-cli", "/tmp/d/e/f.txt").out()).isEqualTo("from stdin\n");
            JsonNode ls = Json.MAPPER.readTree(smartvm("files", "ls", "--json", "files-cli", "/tmp/d/e").out());
            assertThat(ls).hasSize(1);
            assertThat(ls.get(0).get("name").asText()).isEqualTo("f.txt");
            assertThat(ls.get(0).get("type").asText()).isEqualTo("file");
            assertThat(ls.get(0).get("size").asLong()).isEqualTo(11);
            assertThat(ls.get(0).get("mode").asText()).isEqualTo("0644");
            assertThat(smartvm("files", "ls", "files-cli", "/tmp/d").out()).startsWith("drwx").contains(" e\n");

            Process watch = cli("files", "watch", "-r", "--json", "files-cli", "/tmp/d").start();
            try {
                var lines = new java.io.BufferedReader(new java.io.InputStreamReader(watch.getInputStream(), StandardCharsets.UTF_8));
                // a thread of its own: the common pool (one thread on 2 cores) reads the other commands' output
                CompletableFuture<String> first = new CompletableFuture<>();
                Thread.ofVirtual().start(() -> {
                    try {
                        first.complete(lines.readLine());
                    } catch (IOException e) {
                        first.completeExceptionally(e);
                    }
                });
                // the watch is set up once the process is connected: repeat the change until it is seen
                for (int i = 0; i < 60 && !first.isDone(); i++) {
                    smartvm("exec", "files-cli", "--", "touch", "/tmp/d/e/g" + i);
                }
                JsonNode event = Json.MAPPER.readTree(first.get(60, TimeUnit.SECONDS));
                assertThat(event.get("event").asText()).isEqualTo("created");
                assertThat(event.get("path").asText()).startsWith("/tmp/d/e/g");
                assertThat(event.get("directory").asBoolean()).isFalse();
            } finally {
                watch.destroy();
                watch.waitFor(30, TimeUnit.SECONDS);
            }
            JsonNode listed = Json.MAPPER.readTree(smartvm("ls", "--json").out()).get(0);
            assertThat(listed.get("uptimeSeconds").asLong()).as("a running VM has an uptime").isGreaterThanOrEqualTo(0);
            assertThat(listed.get("address").isNull()).as("no network, no address").isTrue();
            assertThat(smartvm("ls").out()).contains("ADDRESS", "UPTIME");
            assertError(smartvm("files", "rm", "files-cli", "/tmp/d"), 2, "INVALID_ARGUMENT", "not empty");
            assertThat(smartvm("files", "rm", "-r", "files-cli", "/tmp/d").code()).isZero();
            assertError(smartvm("files", "cat", "files-cli", "/tmp/d/e/f.txt"), 125, "PATH_NOT_FOUND", "/tmp/d/e/f.txt");
            assertError(smartvm("files", "watch", "files-cli", "/tmp/d"), 125, "PATH_NOT_FOUND", "/tmp/d");
            Process logs = cli("logs", "-f", "files-cli").redirectOutput(dir.resolve("follow.out").toFile())
                    .redirectError(dir.resolve("follow.err").toFile()).start();
            assertThat(logs.waitFor(3, TimeUnit.SECONDS)).as("logs -f follows a running VM").isFalse();
            assertThat(smartvm("stop", "files-cli").code()).isZero();
            assertThat(logs.waitFor(60, TimeUnit.SECONDS)).as("logs -f ends when the VM stops").isTrue();
            assertThat(logs.exitValue()).as(Files.readString(dir.resolve("follow.err"))).isZero();
            assertThat(smartvm("logs", "files-cli").out()).as("what logs -f printed is the console")
                    .startsWith(Files.readString(dir.resolve("follow.out")));
        } finally {
            smartvm("rm", "-f", "files-cli");
        }
    }

    @Test
    void snapshotsAreSavedListedRestoredAndRemovedAcrossProcesses() throws Exception {
        assertThat(smartvm("create", "--name", "orig").code()).isZero();
        assertThat(smartvm("exec", "orig", "--", "sh", "-c", "echo saved > /tmp/state").code()).isZero();
        Result saved = smartvm("snapshot", "create", "orig", "--name", "snap1");
        assertThat(saved.code()).as(saved.err()).isZero();
        assertThat(saved.out().strip()).isEqualTo("snap1");
        assertError(smartvm("snapshot", "create", "orig", "--name", "snap1"), 125, "NAME_IN_USE", "snap1");
        JsonNode ls = Json.MAPPER.readTree(smartvm("snapshot", "ls", "--json").out());
        assertThat(ls).singleElement().satisfies(s -> {
            assertThat(s.get("name").asText()).isEqualTo("snap1");
            assertThat(s.get("vm").asText()).isEqualTo("orig");
            assertThat(s.get("backend").asText()).isEqualTo("qemu");
        });
        Result restored = smartvm("snapshot", "restore", "snap1", "--name", "copy");
        assertThat(restored.code()).as(restored.err()).isZero();
        assertThat(restored.out().strip()).isEqualTo("copy");
        assertThat(smartvm("exec", "copy", "--", "cat", "/tmp/state").out()).isEqualTo("saved\n");
        assertError(smartvm("snapshot", "restore", "nothing"), 125, "SNAPSHOT_NOT_FOUND", "nothing");
        assertThat(smartvm("rm", "-f", "orig", "copy").code()).isZero();
        assertThat(smartvm("snapshot", "rm", "snap1").code()).isZero();
        assertThat(Json.MAPPER.readTree(smartvm("snapshot", "ls", "--json").out())).isEmpty();
        assertError(smartvm("snapshot", "rm", "snap1"), 125, "SNAPSHOT_NOT_FOUND", "snap1");
    }

    @Test
    void templatesAreMadeClonedListedAndRemovedAcrossProcesses() throws Exception {
        Result made = smartvm("template", "create", "tpl", "-e", "GREETING=hello", "--prepare", "echo prepared > /tmp/state",
                "--prepare", "echo $GREETING >> /tmp/state");
        assertThat(made.code()).as(made.err()).isZero();
        assertThat(made.out().strip()).isEqualTo("tpl");
        assertError(smartvm("template", "create", "tpl"), 125, "NAME_IN_USE", "tpl");
        assertError(smartvm("template", "create", "bad", "--prepare", "exit 7"), 125, "PREPARE_FAILED", "exited with 7");
        JsonNode ls = Json.MAPPER.readTree(smartvm("template", "ls", "--json").out());
        assertThat(ls).singleElement().satisfies(t -> {
            assertThat(t.get("name").asText()).isEqualTo("tpl");
            assertThat(t.get("prepare")).hasSize(2);
            assertThat(t.get("memoryMib").asInt()).isEqualTo(256);
        });
        Result run = smartvm("run", "--template", "tpl", "--", "cat", "/tmp/state");
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo("prepared\nhello\n");
        assertThat(smartvm("create", "--template", "tpl", "--name", "kept").out().strip()).isEqualTo("kept");
        assertThat(smartvm("exec", "kept", "--", "cat", "/tmp/state").out()).isEqualTo("prepared\nhello\n");
        assertError(smartvm("template", "rm", "tpl"), 125, "TEMPLATE_IN_USE", "kept");
        assertError(smartvm("run", "--template", "tpl", "--cpus", "2", "--", "true"), 2, "INVALID_ARGUMENT", "--template");
        assertError(smartvm("run", "--template", "nothing", "--", "true"), 125, "TEMPLATE_NOT_FOUND", "nothing");
        Result forked = smartvm("fork", "kept", "-n", "2");
        assertThat(forked.code()).as(forked.err()).isZero();
        List<String> children = forked.out().lines().toList();
        assertThat(children).hasSize(2);
        for (String child : children) {
            assertThat(smartvm("exec", child, "--", "cat", "/tmp/state").out()).isEqualTo("prepared\nhello\n");
        }
        assertError(smartvm("fork", "kept", "-n", "0"), 2, "INVALID_ARGUMENT", "1 to 64");
        List<String> all = new java.util.ArrayList<>(List.of("rm", "-f", "kept"));
        all.addAll(children);
        assertThat(smartvm(all.toArray(String[]::new)).code()).isZero();
        assertThat(smartvm("template", "rm", "tpl").code()).isZero();
        assertThat(Json.MAPPER.readTree(smartvm("template", "ls", "--json").out())).isEmpty();
        assertThat(Json.MAPPER.readTree(smartvm("ls", "--json").out())).isEmpty();
    }

    @Test
    void inspectAndLsSayHowAVmIsConnected() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.smartvm.internal.net.HostNetwork.unavailableReason() == null,
                "bridge networking needs root");
        assertThat(smartvm("create", "--name", "bridged", "--net", "--allow", "10.9.9.9:443", "-p", "18000:8000").code()).isZero();
        assertThat(smartvm("create", "--name", "isolated", "--net", "--net-mode", "user").code()).isZero();
        JsonNode bridged = Json.MAPPER.readTree(smartvm("inspect", "bridged").out()).get("network");
        assertThat(bridged.get("mode").asText()).isEqualTo("bridge");
        assertThat(bridged.get("address").asText()).startsWith("172.30.0.");
        assertThat(bridged.get("tap").asText()).startsWith("sv").hasSize(15);
        assertThat(bridged.get("mac").asText()).startsWith("02:");
        assertThat(bridged.get("allow").get(0).asText()).isEqualTo("10.9.9.9:443");
        assertThat(bridged.get("publish").get(0).asText()).isEqualTo("18000:8000");
        JsonNode isolated = Json.MAPPER.readTree(smartvm("inspect", "isolated").out()).get("network");
        assertThat(isolated.get("mode").asText()).isEqualTo("user");
        assertThat(isolated.get("address").asText()).isEqualTo("10.0.2.15");
        assertThat(isolated.get("tap").isNull()).isTrue();
        JsonNode ls = Json.MAPPER.readTree(smartvm("ls", "--json").out());
        assertThat(ls.findValuesAsText("network")).containsExactlyInAnyOrder("bridge", "user");

        assertThat(smartvm("net", "bridged").out()).isEqualTo("allow: 10.9.9.9:443\ndeny:  (nothing but the defaults)\n");
        assertThat(smartvm("net", "--allow", "10.9.9.8", "--deny", "10.9.9.0/24", "bridged").code()).isZero();
        JsonNode rules = Json.MAPPER.readTree(smartvm("net", "--json", "bridged").out());
        assertThat(rules.get("allow").get(0).asText()).isEqualTo("10.9.9.8");
        assertThat(rules.get("deny").get(0).asText()).isEqualTo("10.9.9.0/24");
        assertThat(smartvm("net", "--clear", "bridged").code()).isZero();
        assertThat(Json.MAPPER.readTree(smartvm("net", "--json", "bridged").out()).get("allow")).isEmpty();
        Result bad = smartvm("net", "--allow", "10.9.9.9:99999", "bridged");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).startsWith("error[INVALID_ARGUMENT]");
        assertThat(smartvm("net", "--clear", "--allow", "10.0.0.1", "bridged").code()).as("--clear with rules").isEqualTo(2);
        Result userMode = smartvm("net", "--allow", "10.9.9.9", "isolated");
        assertThat(userMode.code()).isEqualTo(125);
        assertThat(userMode.err()).startsWith("error[INVALID_STATE]").contains("has no bridge network (user mode)");

        assertThat(smartvm("stop", "bridged").code()).isZero();
        bridged = Json.MAPPER.readTree(smartvm("inspect", "bridged").out()).get("network");
        assertThat(bridged.get("mode").asText()).isEqualTo("bridge");
        assertThat(bridged.get("address").isNull()).as("the address went back").isTrue();
        assertThat(smartvm("rm", "-f", "bridged").code()).isZero();
        assertThat(smartvm("rm", "-f", "isolated").code()).isZero();
    }

    /** The processes following a VM's hostnames (their command line names the VM id). */
    private static List<ProcessHandle> followers(String vmId) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("follow-hostnames " + vmId))
                .toList();
    }

    @Test
    void aVmLeftRunningWithHostnameRulesHasAFollowerThatEndsWithIt() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.smartvm.internal.net.HostNetwork.unavailableReason() == null,
                "bridge networking needs root");
        assertThat(smartvm("create", "--name", "named", "--net", "--allow", "localhost:80").code()).isZero();
        assertThat(smartvm("create", "--name", "numeric", "--net", "--allow", "10.9.9.9").code()).isZero();
        String named = Json.MAPPER.readTree(smartvm("inspect", "named").out()).get("id").asText();
        String numeric = Json.MAPPER.readTree(smartvm("inspect", "numeric").out()).get("id").asText();
        assertThat(followers(named)).as("a hostname rule has a follower").hasSize(1);
        assertThat(followers(numeric)).as("addresses need none").isEmpty();
        assertThat(dev.smartvm.internal.net.TestNetworks.sh("nft list set inet smartvm vm-" + named + "-a0").stdout()).contains("127.0.0.1");

        assertThat(smartvm("stop", "named").code()).isZero();
        waitUntilNoFollower(named);
        assertThat(smartvm("start", "named").code()).isZero();
        assertThat(followers(named)).as("starting again starts another").hasSize(1);
        assertThat(smartvm("rm", "-f", "named", "numeric").code()).isZero();
        waitUntilNoFollower(named);
    }

    private static void waitUntilNoFollower(String vmId) throws InterruptedException {
        for (int i = 0; i < 100 && !followers(vmId).isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(followers(vmId)).as("the follower ends with the VM").isEmpty();
    }

    /** A {@code smartvm run --name NAME -- sleep 1000} in the background, once its VM runs. */
    private record BackgroundRun(Process cli, long vmmPid, Path log) {
    }

    private BackgroundRun runInBackground(String name) throws Exception {
        Path log = dir.resolve(name + ".log");
        Process cli = cli("run", "--name", name, "--", "sleep", "1000").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        while (true) { // bounded by the class timeout
            Thread.sleep(200);
            for (JsonNode vm : Json.MAPPER.readTree(smartvm("ls", "--json").out())) {
                if (vm.get("name").asText().equals(name) && vm.get("state").asText().equals("running")) {
                    return new BackgroundRun(cli, vm.get("pid").asLong(), log);
                }
            }
        }
    }

    @Test
    void aVmWhoseOwnerWasKilledIsReapedByTheNextCommand() throws Exception {
        BackgroundRun run = runInBackground("orphan");
        run.cli().destroyForcibly(); // SIGKILL: no shutdown hook runs
        run.cli().waitFor();
        assertThat(ProcessHandle.of(run.vmmPid()).map(ProcessHandle::isAlive).orElse(false)).as("QEMU outlives its owner").isTrue();

        assertThat(Json.MAPPER.readTree(smartvm("ls", "--json").out())).as("the next command reaps it").isEmpty();
        assertThat(dev.smartvm.internal.host.HostProcess.isRunning(run.vmmPid(), null)).isFalse();
    }

    @Test
    void gcPrintsWhatAKilledOwnerLeftAndRemovesItADryRunNothing() throws Exception {
        BackgroundRun run = runInBackground("left");
        run.cli().destroyForcibly(); // SIGKILL: no shutdown hook runs
        run.cli().waitFor();

        Result dry = smartvm("gc", "--dry-run", "--json");
        assertThat(dry.code()).as(dry.err()).isZero();
        JsonNode found = Json.MAPPER.readTree(dry.out());
        assertThat(found.findValuesAsText("name")).contains("left");
        for (JsonNode l : found) {
            assertThat(l.get("removed").asBoolean()).as("a dry run removes nothing").isFalse();
        }
        JsonNode vm = java.util.stream.StreamSupport.stream(found.spliterator(), false)
                .filter(l -> l.get("name").asText().equals("left")).findFirst().orElseThrow();
        assertThat(vm.get("kind").asText()).isEqualTo("VM");
        assertThat(vm.get("reason").asText()).contains("pid " + run.cli().pid());
        assertThat(dev.smartvm.internal.host.HostProcess.isRunning(run.vmmPid(), null)).as("nor reaps at its start").isTrue();

        Result gc = smartvm("gc");
        assertThat(gc.code()).as(gc.err()).isZero();
        assertThat(gc.out()).contains("removed vm left: the process that owned it (pid " + run.cli().pid() + ") is gone");
        assertThat(dev.smartvm.internal.host.HostProcess.isRunning(run.vmmPid(), null)).as("its QEMU was killed").isFalse();
        assertThat(smartvm("gc", "--dry-run").out()).doesNotContain(" left:");
        assertThat(smartvm("gc", "--bogus").code()).isEqualTo(2);
    }

    @Test
    void interruptingRunRemovesItsVm() throws Exception {
        BackgroundRun run = runInBackground("interrupted");
        run.cli().destroy(); // SIGTERM, as a service manager would: the shutdown hook cleans up
        assertThat(run.cli().waitFor()).as("128 + SIGTERM").isEqualTo(143);
        assertThat(Files.readString(run.log())).as("quietly").doesNotContain("error[");
        assertThat(dev.smartvm.internal.host.HostProcess.isRunning(run.vmmPid(), null)).isFalse();
        try (var dirs = Files.list(home.resolve("vms"))) {
            assertThat(dirs.filter(Files::isDirectory).toList()).as("its directory is gone").isEmpty();
        }
    }

    @Test
    void ctrlCOnRunRemovesItsVmQuietly() throws Exception {
        BackgroundRun run = runInBackground("ctrl-c");
        assertThat(new ProcessBuilder("kill", "-INT", Long.toString(run.cli().pid())).start().waitFor()).isZero();
        assertThat(run.cli().waitFor()).isEqualTo(Main.EXIT_INTERRUPTED);
        assertThat(Files.readString(run.log())).as("no error for what the user asked").doesNotContain("error[");
        assertThat(dev.smartvm.internal.host.HostProcess.isRunning(run.vmmPid(), null)).isFalse();
        assertThat(Json.MAPPER.readTree(smartvm("ls", "--json").out())).isEmpty();
    }

    @Test
    void eightProcessesExecIntoOneVmWhileALongExecRuns() throws Exception {
        assertThat(smartvm("create", "--name", "shared").code()).isZero();
        Process longExec = null;
        try {
            longExec = cli("exec", "shared", "--", "sh", "-c", "touch /tmp/started; sleep 600").redirectErrorStream(true)
                    .redirectOutput(dir.resolve("long.log").toFile()).start();
            while (smartvm("exec", "shared", "--", "test", "-f", "/tmp/started").code() != 0) { // bounded by the class timeout
                assertThat(longExec.isAlive()).as(Files.readString(dir.resolve("long.log"))).isTrue();
            }
            List<CompletableFuture<Result>> quick = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String word = "process" + i;
                quick.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return smartvm("exec", "shared", "--", "echo", word);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            for (int i = 0; i < 8; i++) {
                Result r = quick.get(i).get();
                assertThat(r.code()).as(r.err()).isZero();
                assertThat(r.out()).isEqualTo("process" + i + "\n");
            }
            assertThat(longExec.isAlive()).as("the long exec ran on beside them").isTrue();
        } finally {
            smartvm("rm", "-f", "shared");
            if (longExec != null) {
                longExec.waitFor(60, TimeUnit.SECONDS);
                longExec.destroyForcibly();
            }
        }
    }

    /** The smolvm backend from the CLI, driving the strict fake smolvm (its "guest" is this host). */
    /**
     * A Firecracker user's own config file, as they would bring it, against the fake Firecracker
     * (the real one cannot run here): run it, keep one running, export it, and plan the export.
     */
    @Test
    void aFirecrackerUsersConfigFileRunsAndItsExportPlansTheSame() throws Exception {
        Path fc = dev.smartvm.internal.firecracker.FakeFirecracker.install(Files.createDirectories(dir.resolve("fc-bin")));
        extraEnv.put("SMARTVM_FIRECRACKER", fc.toString());
        Path kernel = Files.write(dir.resolve("vmlinux-6.1"), dev.smartvm.internal.image.TestImages.elfKernel(true));
        dev.smartvm.internal.image.TestImages.ext4(dir.resolve("rootfs.ext4"));
        Path image = dev.smartvm.internal.image.TestImages.directory(dir.resolve("fc-image"), true);
        Path config = Files.writeString(dir.resolve("vm_config.json"), """
                {"boot-source": {"kernel_image_path": "vmlinux-6.1", "boot_args": "console=ttyS0 reboot=k panic=1 pci=off",
                                 "initrd_path": null},
                 "drives": [{"drive_id": "rootfs", "path_on_host": "rootfs.ext4", "is_root_device": true, "is_read_only": false}],
                 "machine-config": {"vcpu_count": 1, "mem_size_mib": 256}, "cpu-config": null,
                 "vsock": {"guest_cid": 3, "uds_path": "./v.sock"}, "balloon": null, "logger": null, "metrics": null}
                """);
        try {
            Result r = smartvm("run", "--backend", "firecracker", "--image", image.toString(), "--firecracker-config",
                    config.toString(), "--", "echo", "in the user's VM");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).isEqualTo("in the user's VM\n");
            assertThat(r.err()).contains("notice: " + config + ": the vsock is taken over for SmartVM's guest agent");

            assertThat(smartvm("create", "--backend", "firecracker", "--image", image.toString(), "--firecracker-config",
                    config.toString(), "--name", "fcbox").code()).isZero();
            Result exported = smartvm("inspect", "--firecracker-config", "fcbox");
            assertThat(exported.code()).as(exported.err()).isZero();
            JsonNode json = Json.MAPPER.readTree(exported.out());
            assertThat(json.at("/boot-source/kernel_image_path").asText()).as("the file's relative path, made absolute")
                    .isEqualTo(kernel.toString());
            assertThat(json.at("/boot-source/boot_args").asText()).isEqualTo("console=ttyS0 reboot=k panic=1 pci=off");
            Path back = Files.writeString(dir.resolve("exported.json"), exported.out());
            Result planned = smartvm("plan", "--backend", "firecracker", "--image", image.toString(), "--firecracker-config",
                    config.toString(), "--firecracker-version", "1.16.1");
            Result again = smartvm("plan", "--backend", "firecracker", "--image", image.toString(), "--firecracker-config",
                    back.toString(), "--firecracker-version", "1.16.1");
            assertThat(planned.code()).as(planned.err()).isZero();
            assertThat(again.out()).as("the export plans the same requests").isEqualTo(planned.out());
        } finally {
            smartvm("rm", "-f", "fcbox");
        }
    }

    @Test
    void runOnSmolvmCreatesExecsAndDeletesAMachine() throws Exception {
        Path smolvm = dev.smartvm.internal.smolvm.FakeSmolvm.install(dir.resolve("smolvm-bin"), dir.resolve("smolvm-data"));
        extraEnv.put("SMARTVM_SMOLVM", smolvm.toString());
        try {
            Result r = smartvm("run", "--backend", "smolvm", "--image", "alpine:3.20", "-e", "WHO=smolvm", "--", "sh", "-c",
                    "echo hello $WHO; echo warn >&2; exit 3");
            assertThat(r.code()).as(r.err()).isEqualTo(3);
            assertThat(r.out()).isEqualTo("hello smolvm\n");
            assertThat(r.err()).contains("warn");
            assertThat(smartvm("run", "--backend", "smolvm", "--image", "alpine:3.20", "--timeout", "1s", "--", "sleep", "10")
                    .code()).isEqualTo(124);
            assertError(smartvm("run", "--backend", "smolvm", "--", "true"), 2, "INVALID_ARGUMENT", "boots OCI images");
            assertError(smartvm("run", "--backend", "smolvm", "--image", "alpine:3.20", "--net", "--deny", "10.0.0.0/8", "--",
                    "true"), 125, "UNSUPPORTED", "deny rules");
            Result piped = smartvmWithInput("from the host\n", "run", "-i", "--backend", "smolvm", "--image", "alpine:3.20", "--",
                    "sh", "-c", "cat; exit 4");
            assertThat(piped.code()).as(piped.err()).isEqualTo(4);
            assertThat(piped.out()).isEqualTo("from the host\n");

            // a VM made by one process is driven by others, as on every engine; its egress never reaches the metadata
            // range, even with smolvm's SMOLVM_EGRESS_ALLOW_PRIVATE in the environment
            extraEnv.put("SMOLVM_EGRESS_ALLOW_PRIVATE", "1");
            assertThat(smartvm("create", "--backend", "smolvm", "--image", "alpine:3.20", "--net", "--name", "sm2").code()).isZero();
            assertThat(smartvm("exec", "sm2", "--", "echo", "from another process").out()).isEqualTo("from another process\n");
            Path file = Files.writeString(dir.resolve("for-smolvm.txt"), "copied");
            assertThat(smartvm("exec", "sm2", "--", "mkdir", "-p", dir.resolve("sm2-guest").toString()).code()).isZero();
            assertThat(smartvm("cp", file.toString(), "sm2:" + dir.resolve("sm2-guest")).code()).isZero();
            assertThat(dir.resolve("sm2-guest/for-smolvm.txt")).hasContent("copied");
            assertThat(smartvmWithInput("typed\n", "exec", "-i", "sm2", "--", "cat").out()).isEqualTo("typed\n");
            String machine = "smartvm-" + Json.MAPPER.readTree(smartvm("inspect", "sm2").out()).path("id").asText();
            var status = dev.smartvm.internal.io.CommandRunner.system().run(List.of(smolvm.toString(), "machine", "status", "--name",
                    machine, "--json"), null, java.time.Duration.ofMinutes(1));
            assertThat(Json.MAPPER.readTree(status.stdout()).at("/network/metadata_reachable").asBoolean()).isFalse();
            assertThat(smartvm("rm", "-f", "sm2").code()).isZero();
            var machines = dev.smartvm.internal.io.CommandRunner.system().run(List.of(smolvm.toString(), "machine", "ls", "--json"),
                    null, java.time.Duration.ofMinutes(1));
            assertThat(Json.MAPPER.readTree(machines.stdout())).as("every machine went with its VM").isEmpty();
            assertThat(smartvm("doctor").out()).contains("smolvm 1.9.3");
        } finally {
            extraEnv.clear();
        }
    }

    /** A TTL outlives the CLI that set it: the home's watchdog process removes the VM, then exits itself. */
    @Test
    void aVmWithATtlIsGoneAfterItsCliExitedAndStatsAndTtlWork() throws Exception {
        assertError(smartvm("create", "--ttl", "0s"), 2, "INVALID_ARGUMENT", "positive");
        assertError(smartvm("create", "--ttl=-5s"), 2, "INVALID_ARGUMENT", "-5s");
        assertError(smartvm("create", "--on-ttl", "stop"), 2, "INVALID_ARGUMENT", "--ttl");
        assertError(smartvm("create", "--ttl", "1m", "--on-ttl", "explode"), 2, "INVALID_ARGUMENT", "remove, stop");
        assertError(smartvm("create", "--backend", "smolvm", "--idle-timeout", "1m"), 125, "UNSUPPORTED", "idle");
        assertError(smartvm("stats", "ghost"), 125, "VM_NOT_FOUND", "ghost");
        assertThat(Json.MAPPER.readTree(smartvm("ls", "--json").out())).as("nothing made").isEmpty();

        Result created = smartvm("create", "--name", "brief", "--ttl", "5s");
        assertThat(created.code()).as(created.err()).isZero();
        JsonNode inspected = Json.MAPPER.readTree(smartvm("inspect", "brief").out());
        java.time.Instant deadline = java.time.Instant.parse(inspected.get("expiresAt").asText());
        JsonNode ttl = Json.MAPPER.readTree(smartvm("ttl", "--json", "brief").out());
        assertThat(ttl.get("remainingSeconds").asLong()).isBetween(0L, 5L);
        assertThat(ttl.get("onTtl").asText()).isEqualTo("remove");

        Result made = smartvm("create", "--name", "longer", "--ttl", "1h");
        assertThat(made.code()).as(made.err()).isZero();
        JsonNode stats = Json.MAPPER.readTree(smartvm("stats", "--json", "longer").out());
        assertThat(stats).hasSize(1);
        assertThat(stats.get(0).get("name").asText()).isEqualTo("longer");
        assertThat(stats.get(0).get("memoryTotalBytes").asLong()).isPositive();
        assertThat(stats.get(0).get("cpuTimeMs").asLong()).isPositive();
        assertThat(stats.get(0).get("vmmRssBytes").asLong()).isPositive();
        assertThat(smartvm("stats").out()).contains("NAME").contains("CPU %").contains("longer");
        Result shortened = smartvm("ttl", "longer", "3s");
        assertThat(shortened.code()).as(shortened.err()).isZero();
        assertThat(shortened.out()).contains("longer is removed at");

        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Json.MAPPER.readTree(smartvm("ls", "--json").out()).size() > 0) {
            assertThat(System.nanoTime()).as("both VMs removed at their deadlines").isLessThan(end);
            Thread.sleep(500);
        }
        assertThat(java.time.Instant.now()).isAfterOrEqualTo(deadline);
        while (ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().orElse("").contains("Watchdog " + home))) {
            assertThat(System.nanoTime()).as("the watchdog exits once no VM has a limit").isLessThan(end + TimeUnit.SECONDS.toNanos(30));
            Thread.sleep(500);
        }
    }

    /** The kubernetes backend's plan needs no cluster: the objects a start would create. */
    @Test
    void planForKubernetesPrintsThePodAndItsNetworkPolicy() throws Exception {
        Result r = smartvm("plan", "--backend", "kubernetes", "--namespace", "sandboxes", "--cpus", "2", "--memory", "512",
                "--image", "alpine:3.20", "--net", "--allow", "10.0.0.0/8");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode calls = Json.MAPPER.readTree(r.out());
        assertThat(calls).hasSize(2);
        assertThat(calls.get(0).get("path").asText()).isEqualTo("/apis/networking.k8s.io/v1/namespaces/sandboxes/networkpolicies");
        JsonNode policy = calls.get(0).get("body");
        assertThat(policy.toString()).contains("\"10.0.0.0/8\"").doesNotContain("0.0.0.0/0").doesNotContain("169.254.169.254");
        JsonNode pod = calls.get(1).get("body");
        assertThat(calls.get(1).get("path").asText()).isEqualTo("/api/v1/namespaces/sandboxes/pods");
        assertThat(pod.at("/spec/runtimeClassName").asText()).isEqualTo("kata");
        JsonNode limits = pod.at("/spec/containers/0/resources/limits");
        assertThat(limits.get("cpu").asText()).isEqualTo("2");
        assertThat(limits.get("memory").asText()).isEqualTo("512Mi");
        assertThat(pod.at("/spec/containers/0/image").asText()).isEqualTo("alpine:3.20");
        assertError(smartvm("plan", "--namespace", "sandboxes"), 2, "INVALID_ARGUMENT", "--backend kubernetes");
        assertError(smartvm("plan", "--backend", "kubernetes", "--namespace", "Bad_NS"), 2, "INVALID_ARGUMENT", "Bad_NS");
    }

    /** Without a kubeconfig (and not in a pod) a start says what is missing, and leaves no VM. */
    @Test
    void kubernetesWithoutAKubeconfigSaysSoAndLeavesNothing(@org.junit.jupiter.api.io.TempDir Path emptyHome) throws Exception {
        ProcessBuilder pb = cli("run", "--backend", "kubernetes", "--image", "alpine:3.20", "--", "true");
        pb.environment().remove("KUBECONFIG");
        pb.environment().remove("KUBERNETES_SERVICE_HOST");
        pb.environment().put("HOME", emptyHome.toString());
        pb.environment().put("JAVA_TOOL_OPTIONS", "-Duser.home=" + emptyHome);
        Process p = pb.redirectErrorStream(true).start();
        String out = read(p.getInputStream());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(125);
        assertThat(out).contains("error[HOST_DEPENDENCY_MISSING]").contains("no kubeconfig").contains("docs/kubernetes.md");
        assertThat(Json.MAPPER.readTree(smartvm("ls", "--json").out())).isEmpty();
    }

    @Test
    void doctorReportsTheHost() throws Exception {
        Result r = smartvm("doctor");
        assertThat(r.out()).contains("qemu").contains("kvm").contains("jdk");
    }
}

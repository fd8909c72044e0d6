package dev.smartvm.internal.smolvm;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.internal.io.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A fake {@code smolvm} 1.9.3 executable (the real one cannot run here), following the section
 * "Verified against the source at tag v1.9.3" of {@code shared/specs/smolvm/CLI-REFERENCE.md}
 * (the contract; each fact has a test in {@code SmolvmFakeTest}): argv parsed as its clap
 * definitions parse it (positional names, {@code -n} on exec, unknown flags and bad durations
 * are usage errors, exit 2); {@code Error: …} and exit 1 for what it refuses ({@code vm not
 * found: N}, a stopped machine, a command it cannot spawn, collected output over 11 MiB, an
 * image machine without a network, {@code -o x.smolmachine}); a deletion without {@code -f}
 * reads its answer from stdin (the machine stopped either way); the host's stdin only with
 * {@code -i}; {@code -e KEY} forwards this process's KEY; exit 124 when {@code exec --timeout}
 * ends the command, its own exit code otherwise; {@code cp} as its agent copies (no file name
 * appended, parents made, a source with {@code :} is a machine's). State lives under
 * {@code $SMOLVM_DATA_DIR/.local/share/smolvm}; a running machine is a process ({@code sleep})
 * whose pid {@code ls} reports; its "guest" is the host, so commands run here with the
 * machine's and the exec's environment and working directory. What smolvm leaves unsaid in
 * its JSON, the fake adds under {@code network}: whether the machine's egress may reach the
 * metadata range (only with {@code SMOLVM_EGRESS_ALLOW_PRIVATE=1} in {@code start}'s environment).
 */
public final class FakeSmolvm {
    static final String VERSION = "1.9.3";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9_]|-(?!-))*(?<!-)");
    private static final Pattern ENV = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=.*", Pattern.DOTALL);
    private static final Pattern DURATION = Pattern.compile("([1-9]\\d*)(s|m|h)");
    private static final Pattern CIDR = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}(/\\d{1,2})?");
    /** Output of an exec without {@code --stream} beyond this is an error. */
    static final int COLLECTED_LIMIT = 11 << 20;
    static final String ALLOW_PRIVATE = "SMOLVM_EGRESS_ALLOW_PRIVATE";

    /** Where smolvm keeps its state: $SMOLVM_DATA_DIR is its HOME. */
    private final Path data;

    private FakeSmolvm(Path home) {
        this.data = home.resolve(".local/share/smolvm");
    }

    /** Writes an executable {@code dir/smolvm} that runs this fake with its state in {@code data}. */
    public static Path install(Path dir, Path data) throws IOException {
        Files.createDirectories(dir);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path script = dir.resolve("smolvm");
        Files.writeString(script, "#!/bin/sh\nSMOLVM_DATA_DIR='" + data + "' exec '" + java + "' -XX:TieredStopAtLevel=1"
                + " -XX:+UseSerialGC -Xshare:auto -cp '" + System.getProperty("java.class.path") + "' "
                + FakeSmolvm.class.getName() + " \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /** A usage error as clap reports it. */
    private static final class Usage extends RuntimeException {
        Usage(String message) {
            super(message);
        }
    }

    /** A refusal: {@code Error: …}, exit 1. */
    private static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message);
        }
    }

    public static void main(String[] args) throws Exception {
        String dir = System.getenv("SMOLVM_DATA_DIR");
        FakeSmolvm fake = new FakeSmolvm(dir != null ? Path.of(dir) : Path.of(System.getProperty("user.home")));
        int code;
        try {
            code = fake.dispatch(List.of(args));
        } catch (Usage e) {
            System.err.println("error: " + e.getMessage() + "\n\nFor more information, try '--help'.");
            code = 2;
        } catch (Refused e) {
            System.err.println("Error: " + e.getMessage());
            code = 1;
        }
        System.out.flush();
        System.exit(code);
    }

    private int dispatch(List<String> a) throws Exception {
        if (a.equals(List.of("--version")) || a.equals(List.of("-V"))) {
            System.out.println("smolvm " + VERSION);
            return 0;
        }
        if (a.size() >= 2 && a.get(0).equals("pack") && a.get(1).equals("create")) {
            return packCreate(parse(a.subList(2, a.size()), Map.of("-I", "image", "--image", "image", "-o", "output",
                    "--output", "output"), List.of(), false));
        }
        if (a.isEmpty() || !a.get(0).equals("machine")) {
            throw new Usage(a.isEmpty() ? "'smolvm' requires a subcommand" : "unrecognized subcommand '" + a.get(0) + "'");
        }
        if (a.size() == 1 || a.get(1).equals("--help") || a.get(1).equals("-h")) {
            System.out.print(RecordingRunner.HELP);
            return 0;
        }
        List<String> rest = a.subList(2, a.size());
        if (a.get(1).equals("exec")) { // the command may run long: other calls drive machines meanwhile
            return exec(parse(rest, Map.of("--name", "name", "-w", "workdir", "--workdir", "workdir", "--timeout", "timeout"),
                    List.of("-e", "--env"), true, List.of("--stream", "-i", "--interactive", "-t", "--tty", "-d", "--detach")));
        }
        try (FileChannel lockFile = FileChannel.open(lock(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock held = lockFile.lock()) {
            return switch (a.get(1)) {
                case "create" -> create(parse(rest, Map.ofEntries(Map.entry("-n", "name"), Map.entry("--name", "name"),
                        Map.entry("-I", "image"), Map.entry("--image", "image"), Map.entry("--from", "from"),
                        Map.entry("--cpus", "cpus"), Map.entry("--mem", "mem"), Map.entry("-w", "workdir"),
                        Map.entry("--workdir", "workdir")), List.of("--allow-cidr", "--allow-host", "-e", "--env", "-v",
                        "--volume", "-p", "--port"), true));
                case "start" -> start(parseFlags(rest, Map.of("-n", "name", "--name", "name"), List.of("--forkable")));
                case "stop" -> stop(parseFlags(rest, Map.of("-n", "name", "--name", "name"), List.of()));
                case "delete" -> delete(parseFlags(rest, Map.of("-n", "name", "--name", "name"), List.of("-f", "--force",
                        "--cascade")));
                case "fork" -> fork(parse(rest, Map.of("--golden", "golden", "--name", "name", "--name-prefix", "prefix",
                        "--count", "count", "--parallel", "parallel", "--ready-timeout", "ready-timeout"), List.of("-e", "--env",
                        "-p", "--port"), false, List.of("--wait-ready", "--hold", "--share-weights", "--forkable")));
                case "status" -> status(parseFlags(rest, Map.of("-n", "name", "--name", "name"), List.of("--json")));
                case "ls" -> ls(parseFlags(rest, Map.of(), List.of("--json")));
                case "cp" -> cp(rest);
                default -> throw new Usage("unrecognized subcommand '" + a.get(1) + "'");
            };
        }
    }

    private Path lock() throws IOException {
        Files.createDirectories(data);
        return data.resolve(".lock");
    }

    /** Parsed argv: single values, repeated values, flags, and the words after {@code --}. */
    private record Args(Map<String, String> values, Map<String, List<String>> lists, List<String> flags, List<String> trailing) {
        String need(String key, String flag) {
            String v = values.get(key);
            if (v == null) {
                throw new Usage("the following required arguments were not provided:\n  " + flag + " <" + key.toUpperCase() + ">");
            }
            return v;
        }
    }

    private static Args parseFlags(List<String> a, Map<String, String> valued, List<String> flags) {
        return parse(a, valued, List.of(), false, flags);
    }

    private static Args parse(List<String> a, Map<String, String> valued, List<String> repeated, boolean trailing) {
        return parse(a, valued, repeated, trailing, List.of("--net", "--stream"));
    }

    private static Args parse(List<String> a, Map<String, String> valued, List<String> repeated, boolean trailing,
            List<String> flags) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, List<String>> lists = new LinkedHashMap<>();
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            String w = a.get(i);
            if (w.equals("--") && trailing) {
                return new Args(values, lists, seen, List.copyOf(a.subList(i + 1, a.size())));
            }
            if (valued.containsKey(w) || repeated.contains(w)) {
                if (i + 1 >= a.size()) {
                    throw new Usage("a value is required for '" + w + "' but none was supplied");
                }
                String v = a.get(++i);
                if (repeated.contains(w)) {
                    lists.computeIfAbsent(canonical(w), k -> new ArrayList<>()).add(v);
                } else if (values.put(valued.get(w), v) != null) {
                    throw new Usage("the argument '" + w + "' cannot be used multiple times");
                }
            } else if (flags.contains(w)) {
                seen.add(switch (w) {
                    case "-f" -> "--force";
                    case "-i" -> "--interactive";
                    case "-t" -> "--tty";
                    case "-d" -> "--detach";
                    default -> w;
                });
            } else if (w.startsWith("-")) {
                throw new Usage("unexpected argument '" + w + "' found");
            } else {
                throw new Usage("unexpected argument '" + w + "' found" + (trailing ? "\n\n  tip: to pass '" + w
                        + "' as a value, use '-- " + w + "'" : ""));
            }
        }
        return new Args(values, lists, seen, List.of());
    }

    private static String canonical(String flag) {
        return switch (flag) {
            case "--env" -> "-e";
            case "--volume" -> "-v";
            case "--port" -> "-p";
            default -> flag;
        };
    }

    private Path machineFile(String name) {
        return data.resolve("machines").resolve(name + ".json");
    }

    /** The machine {@code --name} names; {@code vm not found: N} without it. */
    private ObjectNode load(String name) throws IOException {
        Path f = machineFile(name);
        if (!Files.exists(f)) {
            throw new Refused("vm not found: " + name);
        }
        return (ObjectNode) Json.MAPPER.readTree(f.toFile());
    }

    /** A machine {@code exec} and {@code cp} reach: running, and never started for them. */
    private ObjectNode loadRunning(String name) throws IOException {
        ObjectNode m = load(name);
        if (!running(m)) {
            throw new Refused("agent operation failed: connect: machine '" + name + "' is not running. Use 'smolvm machine"
                    + " start --name " + name + "' first.");
        }
        return m;
    }

    private void save(ObjectNode m) throws IOException {
        Files.createDirectories(data.resolve("machines"));
        Path tmp = data.resolve("machines").resolve(m.get("name").asText() + ".json.tmp");
        Json.MAPPER.writeValue(tmp.toFile(), m);
        Files.move(tmp, machineFile(m.get("name").asText()), StandardCopyOption.ATOMIC_MOVE);
    }

    /** Whether the machine's VM process runs (a killed one reads as stopped, as the real state check does). */
    private static boolean running(ObjectNode m) {
        return m.path("state").asText().equals("running") && alive(m);
    }

    /** Whether the machine is a golden frozen by a fork, its VM process still there. */
    private static boolean frozen(ObjectNode m) {
        return m.path("state").asText().equals("frozen") && alive(m);
    }

    private static boolean alive(ObjectNode m) {
        long pid = m.path("pid").asLong();
        return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The names of the machines forked from {@code golden} that still exist. */
    private List<String> clones(String golden) throws IOException {
        List<String> out = new ArrayList<>();
        Path dir = data.resolve("machines");
        if (Files.isDirectory(dir)) {
            try (var files = Files.list(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                    var c = Json.MAPPER.readTree(f.toFile());
                    if (golden.equals(c.path("golden").asText(null))) {
                        out.add(c.path("name").asText());
                    }
                }
            }
        }
        return out;
    }

    private void refuseWhileCloned(ObjectNode m, String what) throws IOException {
        List<String> clones = clones(m.get("name").asText());
        if (!clones.isEmpty()) {
            throw new Refused("cannot " + what + " golden '" + m.get("name").asText() + "' while it has clones ("
                    + String.join(", ", clones) + ")");
        }
    }

    private int create(Args a) throws IOException {
        String name = a.values().getOrDefault("name", "vm-" + Long.toHexString(System.nanoTime() & 0xffffffffL));
        if (!NAME.matcher(name).matches() || name.length() > 128) {
            throw new Refused("invalid machine name '" + name + "'");
        }
        if (Files.exists(machineFile(name))) {
            throw new Refused("machine '" + name + "' already exists");
        }
        String image = a.values().get("image");
        String from = a.values().get("from");
        if (image != null && from != null) {
            throw new Usage("the argument '--image <IMAGE>' cannot be used with '--from <FROM>'");
        }
        if (from != null && (!from.endsWith(".smolmachine") || !Files.isRegularFile(Path.of(from)))) {
            throw new Refused("cannot read packed machine '" + from + "'");
        }
        for (String c : a.lists().getOrDefault("--allow-cidr", List.of())) {
            if (!CIDR.matcher(c).matches()) {
                throw new Usage("invalid value '" + c + "' for '--allow-cidr <CIDR>'");
            }
        }
        boolean net = a.flags().contains("--net") || a.lists().containsKey("--allow-cidr") || a.lists().containsKey("--allow-host");
        if (image != null && !net && !a.lists().containsKey("-p")) { // since 1.7.3: the image is pulled from inside the machine
            throw new Refused("machine create -I " + image + " needs network access to pull the image: add --net (or"
                    + " --allow-host/--allow-cidr, or -p)");
        }
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("name", name).put("state", "created").put("cpus", Integer.parseInt(a.values().getOrDefault("cpus", "4")))
                .put("memory_mib", Integer.parseInt(a.values().getOrDefault("mem", "8192"))).put("pid", 0)
                .put("image", image != null ? image : Json.MAPPER.readTree(Path.of(from).toFile()).path("image").asText())
                .put("net", net).put("workdir", from != null ? null : a.values().get("workdir")).put("packed", from != null)
                .put("created_at", java.time.Instant.now().toString());
        m.putObject("labels");
        m.set("env", Json.MAPPER.valueToTree(a.lists().getOrDefault("-e", List.of()).stream().filter(e -> ENV.matcher(e).matches())
                .toList()));
        m.set("allow_cidrs", Json.MAPPER.valueToTree(a.lists().getOrDefault("--allow-cidr", List.of())));
        m.set("allow_hosts", Json.MAPPER.valueToTree(a.lists().getOrDefault("--allow-host", List.of())));
        m.set("command", Json.MAPPER.valueToTree(a.trailing()));
        m.set("ports", Json.MAPPER.valueToTree(a.lists().getOrDefault("-p", List.of())));
        save(m);
        return 0;
    }

    private int start(Args a) throws IOException {
        ObjectNode m = load(a.need("name", "--name"));
        if (frozen(m)) {
            refuseWhileCloned(m, "start");
            kill(m);
        }
        if (running(m)) {
            System.out.println("machine '" + m.get("name").asText() + "' already running");
            return 0;
        }
        if (!m.path("packed").asBoolean()) {
            try {
                refuseUnpullable(m.get("image").asText());
            } catch (Refused e) {
                save(m.put("state", "failed"));
                throw e;
            }
        }
        m.put("state", "running").put("pid", startVm()).put("forkable", a.flags().contains("--forkable")).put("fork_ready", false)
                .put("metadata_reachable", "1".equals(System.getenv(ALLOW_PRIVATE))); // the VM process reads it as it starts
        save(m);
        return 0;
    }

    /** A registry under {@code .invalid} (RFC 6761) never resolves, here or anywhere: its images cannot be pulled. */
    private static void refuseUnpullable(String image) {
        String registry = image.contains("/") ? image.substring(0, image.indexOf('/')) : "";
        if (registry.endsWith(".invalid") || registry.contains(".invalid:")) {
            throw new Refused("failed to pull image '" + image + "': error sending request for url (https://" + registry
                    + "/v2/): dns error: failed to lookup address information");
        }
    }

    /** A machine's VM process (it outlives this command, as smolvm's does): its pid. */
    private static long startVm() throws IOException {
        return new ProcessBuilder("setsid", "sleep", "100000").redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                "/dev/null"))).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start().pid();
    }

    /** {@code machine fork}, as v1.9.3 checks it: a forkable running golden at its fork point, then frozen. */
    private int fork(Args a) throws IOException {
        String golden = a.need("golden", "--golden");
        String name = a.values().get("name");
        String prefix = a.values().get("prefix");
        if (name != null && prefix != null) {
            throw new Usage("the argument '--name <NAME>' cannot be used with '--name-prefix <PREFIX>'");
        }
        if (name == null && prefix == null) {
            throw new Usage("the following required arguments were not provided:\n  <--name <NAME>|--name-prefix <PREFIX>>");
        }
        int count = Integer.parseInt(a.values().getOrDefault("count", "1"));
        if (count > 1 && name != null) {
            throw new Refused("--name cannot be used with --count greater than 1; use --name-prefix");
        }
        if (count < 1 || count > 1024) {
            throw new Refused("--count must be between 1 and 1024");
        }
        if (a.flags().contains("--forkable")) {
            throw new Refused("fork --forkable is not supported: a fork cannot be forked in turn");
        }
        String timeout = a.values().getOrDefault("ready-timeout", "10m");
        if (!DURATION.matcher(timeout).matches()) {
            throw new Usage("invalid value '" + timeout + "' for '--ready-timeout <DURATION>'");
        }
        ObjectNode g = load(golden);
        if (!(running(g) && g.path("forkable").asBoolean()) && !frozen(g)) {
            throw new Refused("golden '" + golden + "' is not running forkable; start it with `machine start --forkable --name "
                    + golden + "`");
        }
        if (!g.path("fork_ready").asBoolean()) {
            throw new Refused("golden '" + golden + "' did not reach its fork point within " + timeout
                    + " (its workload must run smolvm-fork-ready)");
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String child = name != null ? name : prefix + "-" + i;
            if (!NAME.matcher(child).matches() || child.length() > 128) {
                throw new Refused("invalid machine name '" + child + "'");
            }
            if (Files.exists(machineFile(child))) {
                throw new Refused("machine '" + child + "' already exists");
            }
            names.add(child);
        }
        g.put("state", "frozen");
        save(g);
        for (String child : names) {
            ObjectNode c = g.deepCopy();
            c.put("name", child).put("state", "running").put("pid", startVm()).put("forkable", false).put("golden", golden);
            save(c);
            System.out.println(child);
        }
        return 0;
    }

    private int stop(Args a) throws IOException {
        ObjectNode m = load(a.need("name", "--name"));
        if (frozen(m)) {
            refuseWhileCloned(m, "stop");
        } else if (!running(m)) {
            System.out.println("Machine '" + m.get("name").asText() + "' is not running (state: " + described(m).get("state")
                    .asText() + ")");
            return 0;
        }
        kill(m);
        m.put("state", "stopped").put("pid", 0);
        save(m);
        return 0;
    }

    private static void kill(ObjectNode m) {
        ProcessHandle.of(m.path("pid").asLong()).ifPresent(p -> {
            p.destroyForcibly();
            p.onExit().join();
        });
    }

    private int delete(Args a) throws IOException {
        ObjectNode m = load(a.need("name", "--name"));
        if (!a.flags().contains("--force")) {
            if (running(m)) { // stopped before the question, whatever the answer
                kill(m);
                save(m.put("state", "stopped").put("pid", 0));
            }
            System.out.print("Delete machine '" + m.get("name").asText() + "'? [y/N] ");
            System.out.flush();
            String answer = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            if (answer == null || !(answer.strip().equalsIgnoreCase("y") || answer.strip().equalsIgnoreCase("yes"))) {
                System.out.println("Cancelled");
                return 0;
            }
        }
        if (a.flags().contains("--cascade")) {
            for (String clone : clones(m.get("name").asText())) {
                ObjectNode c = load(clone);
                kill(c);
                Files.delete(machineFile(clone));
            }
        } else { // without it, the clones are left dangling, as smolvm leaves them: their disk overlays are gone
            for (String clone : clones(m.get("name").asText())) {
                save(load(clone).put("dangling", true));
            }
        }
        if (alive(m)) {
            kill(m);
        }
        Files.delete(machineFile(m.get("name").asText()));
        return 0;
    }

    /** {@code machine_status_json}: v1.9.3's fields, in its order. */
    private ObjectNode described(ObjectNode m) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        boolean up = running(m) || frozen(m);
        String state = m.get("state").asText();
        o.put("name", m.get("name").asText()).put("state", up ? state : state.equals("running") || state.equals("frozen")
                ? "stopped" : state).put("cpus", m.get("cpus").asInt()).put("memory_mib", m.get("memory_mib").asInt())
                .put("pid", up ? m.get("pid").asLong() : 0).put("mounts", 0).put("ports", m.path("ports").size())
                .put("created_at", m.path("created_at").asText(null)).put("storage_gb", 20).put("overlay_gb", 10)
                .put("image", m.get("image").asText()).putNull("entrypoint").putNull("cmd").put("ephemeral", false)
                .put("gpu", false).putNull("gpu_vram_mib").put("cuda", false).put("forkable", m.path("forkable").asBoolean(false))
                .putNull("cuda_fork_pool_size").putNull("cuda_vram_limit_mib").put("forkpoint_held", m.path("fork_ready")
                        .asBoolean(false) && up);
        o.set("labels", m.get("labels"));
        o.put("restart_policy", "never").put("restart_count", 0).putNull("health_status").putNull("health_checked_at");
        ObjectNode net = o.putObject("network");
        net.put("enabled", m.path("net").asBoolean()).set("allow_cidrs", m.path("allow_cidrs"));
        net.set("allow_hosts", m.path("allow_hosts"));
        net.put("metadata_reachable", m.path("metadata_reachable").asBoolean(false));
        return o;
    }

    private int status(Args a) throws IOException {
        String name = a.need("name", "--name");
        if (a.flags().contains("--json") && !Files.exists(machineFile(name))) { // the config path, not the --name lookup
            throw new Refused("config operation failed: machine status: machine '" + name + "' not found");
        }
        ObjectNode m = load(name);
        if (!a.flags().contains("--json")) {
            System.out.println(m.get("name").asText() + ": " + described(m).get("state").asText());
            return 0;
        }
        System.out.println(Json.MAPPER.writeValueAsString(described(m)));
        return 0;
    }

    private int ls(Args a) throws IOException {
        ArrayNode arr = Json.MAPPER.createArrayNode();
        Path dir = data.resolve("machines");
        if (Files.isDirectory(dir)) {
            try (var files = Files.list(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                    arr.add(described((ObjectNode) Json.MAPPER.readTree(f.toFile())));
                }
            }
        }
        if (a.flags().contains("--json")) {
            System.out.println(Json.MAPPER.writeValueAsString(arr));
        } else {
            arr.forEach(m -> System.out.println(m.get("name").asText() + "\t" + m.get("state").asText()));
        }
        return 0;
    }

    /** {@code NAME:/path} split in two, or null for a host path: any {@code :} makes it a machine's. */
    private static String[] guestSide(String arg) {
        int colon = arg.indexOf(':');
        return colon < 0 ? null : new String[] {arg.substring(0, colon), arg.substring(colon + 1)};
    }

    /**
     * {@code machine cp}, as v1.9.3's agent copies one file: the source is checked for {@code :}
     * first; a guest path gets a leading {@code /} and may not hold {@code .} or {@code ..};
     * an upload makes missing parents and renames a temporary file onto the target (so onto a
     * directory it fails); a download writes exactly the host path given.
     */
    private int cp(List<String> a) throws IOException {
        if (a.size() != 2 || a.stream().anyMatch(w -> w.startsWith("-"))) {
            throw new Usage(a.size() < 2 ? "the following required arguments were not provided:\n  <SRC>\n  <DST>"
                    : "unexpected argument '" + a.get(a.size() > 2 ? 2 : 0) + "' found");
        }
        String[] src = guestSide(a.get(0));
        String[] dst = src == null ? guestSide(a.get(1)) : null;
        if (src == null && dst == null) {
            throw new Refused("one of SRC and DST must be a machine path (NAME:/path)");
        }
        String[] guest = src != null ? src : dst;
        loadRunning(guest[0]);
        String path = guest[1].startsWith("/") ? guest[1] : "/" + guest[1];
        for (String part : path.split("/")) {
            if (part.equals(".") || part.equals("..")) {
                throw new Refused("agent operation failed: invalid guest path '" + path + "': '.' and '..' are not allowed");
            }
        }
        if (src != null) {
            Path from = Path.of(path);
            if (!Files.exists(from)) {
                throw new Refused("agent operation failed: read file: " + path + ": No such file or directory (os error 2)");
            }
            if (!Files.isRegularFile(from)) {
                throw new Refused("agent operation failed: not a regular file: " + path);
            }
            Path to = Path.of(a.get(1));
            if (Files.isDirectory(to)) {
                throw new Refused("agent operation failed: write local file: " + a.get(1) + ": Is a directory (os error 21)");
            }
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            return 0;
        }
        Path from = Path.of(a.get(0));
        if (!Files.isRegularFile(from)) {
            throw new Refused("read local file: " + a.get(0) + ": " + (Files.isDirectory(from) ? "Is a directory (os error 21)"
                    : "No such file or directory (os error 2)"));
        }
        Path to = Path.of(path);
        Files.createDirectories(to.getParent() == null ? Path.of("/") : to.getParent());
        Path tmp = to.resolveSibling("." + to.getFileName() + ".smolvm-tmp");
        Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        try {
            Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw new Refused("agent operation failed: rename " + tmp + " to " + path + ": " + (Files.isDirectory(to)
                    ? "Is a directory (os error 21)" : e.getMessage()));
        }
        return 0;
    }

    private int exec(Args a) throws Exception {
        String name = a.need("name", "--name");
        ObjectNode m;
        try (FileChannel lockFile = FileChannel.open(lock(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock held = lockFile.lock()) {
            m = loadRunning(name);
        }
        if (a.trailing().isEmpty()) {
            throw new Usage("the following required arguments were not provided:\n  <COMMAND>...");
        }
        if (m.path("dangling").asBoolean()) {
            throw new Refused("agent operation failed: vm exec: the machine's disk overlay is gone (its golden was deleted)");
        }
        if (a.trailing().equals(List.of("smolvm-fork-ready"))) { // smolvm's guest helper: this machine is at its fork point
            try (FileChannel lockFile = FileChannel.open(lock(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock held = lockFile.lock()) {
                ObjectNode now = load(name);
                save(now.put("fork_ready", true));
            }
            return 0;
        }
        long timeoutSeconds = 0;
        String t = a.values().get("timeout");
        if (t != null) {
            var d = DURATION.matcher(t);
            if (!d.matches()) {
                throw new Usage("invalid value '" + t + "' for '--timeout <DURATION>'");
            }
            timeoutSeconds = Long.parseLong(d.group(1)) * switch (d.group(2)) {
                case "h" -> 3600;
                case "m" -> 60;
                default -> 1;
            };
        }
        ProcessBuilder pb = new ProcessBuilder(a.trailing());
        pb.environment().keySet().removeIf(k -> !k.equals("PATH") && !k.equals("HOME"));
        for (String e : concat(m.path("env"), a.lists().getOrDefault("-e", List.of()))) {
            int eq = e.indexOf('=');
            if (eq > 0) {
                pb.environment().put(e.substring(0, eq), e.substring(eq + 1));
            } else if (eq < 0 && !e.isEmpty() && System.getenv(e) != null) { // -e KEY: this process's KEY
                pb.environment().put(e, System.getenv(e));
            }
        }
        String workdir = a.values().getOrDefault("workdir", m.path("workdir").asText("/"));
        pb.directory(Path.of(workdir.isEmpty() ? "/" : workdir).toFile());
        boolean stream = a.flags().contains("--stream");
        boolean stdin = a.flags().contains("--interactive") || a.flags().contains("--tty");
        if (stdin) {
            pb.redirectInput(ProcessBuilder.Redirect.INHERIT);
        } else if (!stream) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        } // else a pipe this process never writes nor closes: a command that reads stdin waits
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) { // a missing binary, or a working directory that is not there
            String cause = e.getMessage().contains("error=13") ? "Permission denied (os error 13)"
                    : "No such file or directory (os error 2)";
            throw new Refused("agent operation failed: vm exec: failed to spawn command: " + cause);
        }
        if (a.flags().contains("--detach")) {
            System.out.println(p.pid());
            return 0;
        }
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        var out = pump(p.getInputStream(), stream ? System.out : outBytes);
        var err = pump(p.getErrorStream(), stream ? System.err : errBytes);
        boolean done = timeoutSeconds == 0 ? p.waitFor(365, TimeUnit.DAYS) : p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
        out.join();
        err.join();
        if (!stream) {
            if (outBytes.size() + errBytes.size() > COLLECTED_LIMIT) {
                throw new Refused("agent operation failed: vm exec: output exceeds 11 MiB; use --stream");
            }
            System.out.write(outBytes.toByteArray());
            System.err.write(errBytes.toByteArray());
        }
        if (!done) { // an image machine's agent says so after the command's own stderr
            System.err.print("\ncommand timed out after " + timeoutSeconds * 1000 + "ms");
            System.err.flush();
            return 124;
        }
        return p.exitValue();
    }

    private static List<String> concat(com.fasterxml.jackson.databind.JsonNode env, List<String> more) {
        List<String> all = new ArrayList<>();
        env.forEach(e -> all.add(e.asText()));
        all.addAll(more);
        return all;
    }

    /** Copies a command's stream as it comes. */
    private static Thread pump(InputStream in, OutputStream to) {
        return Thread.ofVirtual().start(() -> {
            try (in) {
                byte[] buf = new byte[65536];
                for (int n; (n = in.read(buf)) > 0; ) {
                    synchronized (to) {
                        to.write(buf, 0, n);
                        to.flush();
                    }
                }
            } catch (IOException ignored) {
                // the command went away
            }
        });
    }

    private int packCreate(Args a) throws IOException {
        String image = a.need("image", "--image");
        String out = a.need("output", "--output");
        refuseUnpullable(image);
        if (out.endsWith(".smolmachine")) {
            throw new Refused("output path must not end in .smolmachine (the sidecar " + out + ".smolmachine is written next to it)");
        }
        Files.writeString(Path.of(out), "#!/bin/sh\nexec smolvm machine run --from \"$0.smolmachine\" \"$@\"\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(Path.of(out), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(Path.of(out + ".smolmachine"), Json.MAPPER.writeValueAsString(Json.MAPPER.createObjectNode()
                .put("image", image)));
        return 0;
    }
}

package dev.smartvm.internal.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.smartvm.firecracker.FirecrackerApiSpec;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A fake Firecracker API server on a Unix socket, as strict as the real one where it matters:
 * operations only allowed before or after InstanceStart, bodies validated against the official
 * spec with unknown fields refused, the 51200-byte payload limit, ids in path and body that must
 * match, 400 with a fault_message for every refusal.
 */
final class FakeFirecrackerApi implements AutoCloseable {
    static final int MAX_PAYLOAD = 51200;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> PRE_BOOT = Set.of("PUT /boot-source", "PUT /machine-config", "PATCH /machine-config",
            "PUT /drives/{drive_id}", "PUT /network-interfaces/{iface_id}", "PUT /vsock", "PUT /logger", "PUT /metrics",
            "PUT /mmds/config", "PUT /balloon", "PUT /entropy", "PUT /serial", "PUT /cpu-config", "PUT /pmem/{id}", "PUT /hotplug/memory",
            "PUT /snapshot/load");
    private static final Set<String> POST_BOOT = Set.of("PATCH /vm", "PUT /snapshot/create", "PATCH /drives/{drive_id}",
            "PATCH /network-interfaces/{iface_id}", "PATCH /balloon", "GET /balloon/statistics", "PATCH /balloon/statistics");
    private static final List<String> TEMPLATES = List.of("/drives/{drive_id}", "/network-interfaces/{iface_id}", "/pmem/{id}");

    /** What runs "inside": told when the VM starts, pauses, resumes, gets Ctrl-Alt-Del, is snapshotted. */
    interface Guest {
        /** Boots; throws IllegalStateException with Firecracker's message when the boot source is unusable. */
        void boot(JsonNode config, boolean paused);

        /**
         * Starts where a snapshot left off (the kernel is not read again): its drives and vsock
         * socket are opened at the paths the snapshot recorded.
         */
        default void restore(JsonNode config, boolean paused) {
            boot(config, paused);
        }

        void pause();

        void resume();

        void ctrlAltDel();
    }

    private static final Guest NO_GUEST = new Guest() {
        @Override
        public void boot(JsonNode config, boolean paused) {
        }

        @Override
        public void pause() {
        }

        @Override
        public void resume() {
        }

        @Override
        public void ctrlAltDel() {
        }
    };

    private final FirecrackerApiSpec spec;
    private final String version;
    private final String instanceId;
    private final Guest guest;
    /** Everything configured so far, by API object name, as Firecracker's own config file has it. */
    private final com.fasterxml.jackson.databind.node.ObjectNode config = JSON.createObjectNode();
    private final java.util.List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger maxOpen = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile String state = "Not started";
    private volatile boolean bootSourceSet;

    FakeFirecrackerApi(Path socket, FirecrackerApiSpec spec, String version) throws IOException {
        this(socket, spec, version, "anonymous-instance", NO_GUEST);
    }

    FakeFirecrackerApi(Path socket, FirecrackerApiSpec spec, String version, String instanceId, Guest guest) throws IOException {
        this.spec = spec;
        this.version = version;
        this.instanceId = instanceId;
        this.guest = guest;
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        acceptor = Thread.ofPlatform().daemon().start(this::acceptLoop);
    }

    int maxConcurrentConnections() {
        return maxOpen.get();
    }

    int connectionsAccepted() {
        return accepted.get();
    }

    String state() {
        return state;
    }

    /** "METHOD /path" of every request answered with success, in order. */
    List<String> requests() {
        return List.copyOf(log);
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                accepted.incrementAndGet();
                maxOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                Thread.ofVirtual().start(() -> serve(ch));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            InputStream in = new BufferedInputStream(Channels.newInputStream(ch));
            OutputStream out = Channels.newOutputStream(ch);
            while (true) {
                String requestLine = line(in);
                if (requestLine == null) {
                    return;
                }
                String[] parts = requestLine.split(" ");
                int length = 0;
                String h;
                while (!(h = line(in)).isEmpty()) {
                    if (h.toLowerCase().startsWith("content-length:")) {
                        length = Integer.parseInt(h.substring(15).strip());
                    }
                }
                byte[] body = in.readNBytes(length);
                String[] reply = handle(parts[0], parts[1], body);
                byte[] payload = reply[1].getBytes(StandardCharsets.UTF_8);
                out.write(("HTTP/1.1 " + reply[0] + "\r\nServer: Firecracker API\r\nContent-Length: " + payload.length
                        + (payload.length > 0 ? "\r\nContent-Type: application/json" : "") + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(payload);
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            open.decrementAndGet();
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                return b.size() == 0 ? null : b.toString(StandardCharsets.US_ASCII);
            }
            b.write(c);
        }
        String s = b.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    private static String[] fault(String message) {
        try {
            return new String[] {"400 Bad Request", JSON.writeValueAsString(Map.of("fault_message", message))};
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private synchronized String[] handle(String method, String path, byte[] body) throws IOException {
        if (body.length > MAX_PAYLOAD) {
            return fault("Request payload with size " + body.length + " is larger than the limit of " + MAX_PAYLOAD
                    + " allowed by server.");
        }
        String template = TEMPLATES.stream().filter(t -> path.startsWith(t.substring(0, t.indexOf('{'))) && path.length()
                > t.indexOf('{')).findFirst().orElse(path);
        String op = method + " " + template;
        if (spec.operation(method, template).isMissingNode()) {
            return fault("Invalid request method and/or path: " + method + " " + path + ".");
        }
        boolean started = !state.equals("Not started");
        if (started && PRE_BOOT.contains(op)) {
            return fault("The requested operation is not supported after starting the microVM.");
        }
        if (!started && POST_BOOT.contains(op)) {
            return fault("The requested operation is not supported before starting the microVM.");
        }
        JsonNode json = body.length == 0 ? null : JSON.readTree(body);
        JsonNode schema = spec.bodySchema(method, template);
        if (schema != null) {
            if (json == null) {
                return fault("Empty request body.");
            }
            var errors = spec.validate(schema, json);
            if (!errors.isEmpty()) {
                return fault("An error occurred when deserializing the json body of a request: "
                        + errors.stream().map(Object::toString).collect(Collectors.joining("; ")));
            }
        }
        if (!template.equals(path)) {
            String id = path.substring(path.lastIndexOf('/') + 1);
            String field = template.substring(template.indexOf('{') + 1, template.indexOf('}'));
            if (!id.equals(json.path(field).asText())) {
                return fault("The id from the path [" + id + "] does not match the id from the body ["
                        + json.path(field).asText() + "]!");
            }
        }
        String[] reply = apply(op, path, json, started);
        if (reply[0].startsWith("2")) {
            log.add(method + " " + path);
        }
        return reply;
    }

    private static final String[] NO_CONTENT = {"204 No Content", ""};

    private String[] apply(String op, String path, JsonNode json, boolean started) throws IOException {
        switch (op) {
            case "GET /" -> {
                return new String[] {"200 OK", JSON.writeValueAsString(Map.of("id", instanceId, "state", state,
                        "vmm_version", version, "app_name", "Firecracker"))};
            }
            case "GET /version" -> {
                return new String[] {"200 OK", JSON.writeValueAsString(Map.of("firecracker_version", version))};
            }
            case "GET /vm/config" -> {
                return new String[] {"200 OK", JSON.writeValueAsString(config)};
            }
            case "PUT /boot-source" -> {
                bootSourceSet = true;
                config.set("boot-source", json);
            }
            case "PUT /drives/{drive_id}", "PUT /network-interfaces/{iface_id}", "PUT /pmem/{id}" -> {
                String list = op.contains("drives") ? "drives" : op.contains("pmem") ? "pmem" : "network-interfaces";
                String idField = op.substring(op.indexOf('{') + 1, op.indexOf('}'));
                var items = config.withArrayProperty(list);
                for (int i = 0; i < items.size(); i++) {
                    if (items.get(i).path(idField).equals(json.path(idField))) {
                        items.remove(i);
                        break;
                    }
                }
                if (json.path("is_root_device").asBoolean(false)) {
                    for (JsonNode d : items) {
                        if (d.path("is_root_device").asBoolean(false)) {
                            return fault("A root block device already exists!");
                        }
                    }
                }
                items.add(json);
            }
            case "PUT /machine-config" -> config.set("machine-config", json);
            case "PUT /cpu-config" -> config.set("cpu-config", json);
            case "PUT /hotplug/memory" -> config.set("memory-hotplug", json);
            case "PUT /vsock" -> config.set("vsock", json);
            case "PUT /logger" -> {
                if (json.has("log_path") && !java.nio.file.Files.exists(Path.of(json.path("log_path").asText()))) {
                    return fault("Logger error: Failed to open target file: No such file or directory (os error 2)");
                }
                config.set("logger", json);
            }
            case "PUT /metrics" -> {
                if (!java.nio.file.Files.exists(Path.of(json.path("metrics_path").asText()))) {
                    return fault("Metrics error: Failed to open target file: No such file or directory (os error 2)");
                }
                config.set("metrics", json);
            }
            case "PUT /balloon" -> config.set("balloon", json);
            case "PUT /mmds/config" -> config.set("mmds-config", json);
            case "PUT /entropy" -> config.set("entropy", json);
            case "PUT /serial" -> {
                // configured, but not part of a FullVmConfiguration: GET /vm/config does not show it
            }
            case "PUT /actions" -> {
                return action(json.path("action_type").asText(), started);
            }
            case "PATCH /vm" -> {
                if (json.path("state").asText().equals("Paused")) {
                    guest.pause();
                    state = "Paused";
                } else {
                    guest.resume();
                    state = "Running";
                }
            }
            case "PUT /snapshot/create" -> {
                if (!state.equals("Paused")) {
                    return fault("Cannot create snapshot: the microVM is not paused.");
                }
                if (json.path("snapshot_type").asText("Full").equals("Diff")) {
                    return fault("Cannot create snapshot: Diff snapshots need dirty page tracking, which is off.");
                }
                // Firecracker opens both files for writing, relative to its working directory, and writes all of memory
                Path snapshot = Path.of(json.path("snapshot_path").asText());
                Path memory = Path.of(json.path("mem_file_path").asText());
                try (var mem = new java.io.RandomAccessFile(memory.toFile(), "rw")) {
                    mem.setLength(config.path("machine-config").path("mem_size_mib").asLong(128) << 20);
                    mem.write(("fake guest memory of " + instanceId).getBytes(StandardCharsets.US_ASCII));
                    java.nio.file.Files.write(snapshot, JSON.writeValueAsBytes(Map.of("fake-firecracker-snapshot", version,
                            "config", config)));
                } catch (IOException e) {
                    return fault("Cannot create snapshot: Failed to save the microVM state: " + e.getMessage());
                }
            }
            case "PUT /snapshot/load" -> {
                for (var names = config.fieldNames(); names.hasNext(); ) {
                    if (!Set.of("logger", "metrics").contains(names.next())) {
                        return fault("Loading a microVM snapshot not allowed after configuring boot-specific resources.");
                    }
                }
                Path snapshot = Path.of(json.path("snapshot_path").asText());
                JsonNode saved;
                try {
                    saved = JSON.readTree(snapshot.toFile());
                } catch (IOException e) {
                    return fault("Load snapshot error: Failed to restore from snapshot: Failed to get snapshot state"
                            + " from file: " + e.getMessage());
                }
                if (!version.equals(saved.path("fake-firecracker-snapshot").asText())) {
                    return fault("Load snapshot error: Failed to restore from snapshot: Invalid snapshot version: "
                            + saved.path("fake-firecracker-snapshot").asText());
                }
                saved = saved.path("config").deepCopy();
                JsonNode mem = json.path("mem_backend");
                String memPath = mem.isMissingNode() ? json.path("mem_file_path").asText() : mem.path("backend_path").asText();
                long size = saved.path("machine-config").path("mem_size_mib").asLong(128) << 20;
                // the File backend maps the memory file privately: opened read-only, never written
                try (var file = new java.io.RandomAccessFile(memPath, "r")) {
                    if (file.length() != size) {
                        return fault("Load snapshot error: Failed to restore from snapshot: Failed to load guest memory: the"
                                + " memory file has " + file.length() + " bytes, the snapshot " + size);
                    }
                } catch (IOException e) {
                    return fault("Load snapshot error: Failed to restore from snapshot: Failed to load guest memory: "
                            + "No such file or directory (os error 2)");
                }
                for (JsonNode o : json.path("network_overrides")) {
                    JsonNode known = null;
                    for (JsonNode n : saved.path("network-interfaces")) {
                        known = n.path("iface_id").equals(o.path("iface_id")) ? n : known;
                    }
                    if (known == null) {
                        return fault("Load snapshot error: Invalid network configuration: the snapshot has no interface "
                                + o.path("iface_id").asText());
                    }
                    ((com.fasterxml.jackson.databind.node.ObjectNode) known).set("host_dev_name", o.get("host_dev_name"));
                }
                config.setAll((com.fasterxml.jackson.databind.node.ObjectNode) saved);
                boolean resume = json.path("resume_vm").asBoolean(false);
                try {
                    guest.restore(config, !resume);
                } catch (IllegalStateException e) {
                    return fault(e.getMessage());
                }
                state = resume ? "Running" : "Paused";
            }
            case "PATCH /balloon" -> {
                if (!config.has("balloon")) {
                    return fault("Balloon device error: device not found");
                }
                ((com.fasterxml.jackson.databind.node.ObjectNode) config.get("balloon")).set("amount_mib", json.get("amount_mib"));
            }
            case "PATCH /balloon/statistics" -> {
                if (!config.has("balloon")) {
                    return fault("Balloon device error: device not found");
                }
                if (config.get("balloon").path("stats_polling_interval_s").asInt(0) == 0) {
                    return fault("Balloon device error: statistics were not enabled when the device was configured");
                }
                ((com.fasterxml.jackson.databind.node.ObjectNode) config.get("balloon"))
                        .set("stats_polling_interval_s", json.get("stats_polling_interval_s"));
            }
            case "GET /balloon/statistics", "GET /balloon" -> {
                JsonNode b = config.get("balloon");
                if (b == null) {
                    return fault("Balloon device error: device not found");
                }
                if (op.equals("GET /balloon")) {
                    return new String[] {"200 OK", JSON.writeValueAsString(b)};
                }
                if (b.path("stats_polling_interval_s").asInt(0) == 0) {
                    return fault("Balloon device error: statistics are not enabled");
                }
                int target = b.path("amount_mib").asInt();
                return new String[] {"200 OK", JSON.writeValueAsString(Map.of("target_pages", target * 256,
                        "actual_pages", target * 256, "target_mib", target, "actual_mib", target,
                        "free_memory", 50L << 20, "total_memory", config.path("machine-config").path("mem_size_mib").asLong(128) << 20))};
            }
            default -> {
                // accepted and remembered nowhere: the fake checks requests, it does not model this one
            }
        }
        return NO_CONTENT;
    }

    /** A config file's keys, in the order Firecracker applies them, with the request each one is. */
    private static final Map<String, String> FILE_OBJECTS = new java.util.LinkedHashMap<>();

    static {
        String[][] order = {{"logger", "/logger"}, {"metrics", "/metrics"}, {"machine-config", "/machine-config"},
            {"cpu-config", "/cpu-config"}, {"boot-source", "/boot-source"}, {"drives", "/drives/{drive_id}"},
            {"pmem", "/pmem/{id}"}, {"network-interfaces", "/network-interfaces/{iface_id}"}, {"vsock", "/vsock"},
            {"mmds-config", "/mmds/config"}, {"balloon", "/balloon"}, {"memory-hotplug", "/hotplug/memory"},
            {"entropy", "/entropy"}};
        for (String[] o : order) {
            FILE_OBJECTS.put(o[0], o[1]);
        }
    }

    /**
     * Builds and boots the VM of a config file as {@code firecracker --config-file} does: the file
     * a {@code FullVmConfiguration} with no other key, each object applied as its request would be
     * (null is absent), then InstanceStart. Returns the first refusal, or null.
     */
    String configureFrom(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            return "Configuration for VMM from one single json failed: " + e.getMessage();
        }
        if (root == null || !root.isObject()) {
            return "Configuration for VMM from one single json failed: invalid type, expected struct VmmConfig";
        }
        for (var names = root.fieldNames(); names.hasNext(); ) {
            String key = names.next();
            if (!FILE_OBJECTS.containsKey(key)) {
                return "Configuration for VMM from one single json failed: unknown field `" + key + "`, expected one of "
                        + FILE_OBJECTS.keySet().stream().map(k -> "`" + k + "`").collect(Collectors.joining(", "));
            }
        }
        for (Map.Entry<String, String> o : FILE_OBJECTS.entrySet()) {
            JsonNode value = root.get(o.getKey());
            if (value == null || value.isNull()) {
                continue;
            }
            String template = o.getValue();
            for (JsonNode item : value.isArray() ? value : List.of(value)) {
                String path = template.contains("{") ? template.substring(0, template.indexOf('{'))
                        + item.path(template.substring(template.indexOf('{') + 1, template.indexOf('}'))).asText() : template;
                String[] reply = handle("PUT", path, JSON.writeValueAsBytes(item));
                if (!reply[0].startsWith("2")) {
                    return "Configuration for VMM from one single json failed: " + JSON.readTree(reply[1]).path("fault_message").asText();
                }
            }
        }
        String[] started = handle("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}".getBytes(StandardCharsets.US_ASCII));
        return started[0].startsWith("2") ? null : "Building VMM configured from cmdline json failed: "
                + JSON.readTree(started[1]).path("fault_message").asText();
    }

    private String[] action(String action, boolean started) {
        switch (action) {
            case "InstanceStart" -> {
                if (started) {
                    return fault("The requested operation is not supported after starting the microVM.");
                }
                if (!bootSourceSet) {
                    return fault("Cannot start microvm that was not configured: missing kernel configuration.");
                }
                try {
                    guest.boot(config, false);
                } catch (IllegalStateException e) {
                    return fault(e.getMessage());
                }
                state = "Running";
            }
            case "SendCtrlAltDel" -> {
                if (!started) {
                    return fault("The requested operation is not supported before starting the microVM.");
                }
                guest.ctrlAltDel();
            }
            case "FlushMetrics" -> {
                if (!config.has("metrics")) {
                    return fault("The metrics system was not initialized: configure it with PUT /metrics first.");
                }
                try {
                    java.nio.file.Files.writeString(Path.of(config.get("metrics").path("metrics_path").asText()),
                            "{\"utc_timestamp_ms\":" + System.currentTimeMillis() + ",\"api_server\":{}}\n",
                            java.nio.file.StandardOpenOption.APPEND);
                } catch (IOException e) {
                    return fault("Metrics error: " + e.getMessage());
                }
            }
            default -> {
                return fault("unknown action_type " + action);
            }
        }
        return NO_CONTENT;
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

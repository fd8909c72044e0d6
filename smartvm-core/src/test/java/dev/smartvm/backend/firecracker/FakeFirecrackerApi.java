package dev.smartvm.backend.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.smartvm.config.FirecrackerApiSpec;
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
            "PUT /mmds/config", "PUT /balloon", "PUT /entropy", "PUT /serial", "PUT /cpu-config");
    private static final Set<String> POST_BOOT = Set.of("PATCH /vm", "PUT /snapshot/create", "PATCH /drives/{drive_id}",
            "PATCH /network-interfaces/{iface_id}", "PATCH /balloon", "GET /balloon/statistics", "PATCH /balloon/statistics");
    private static final List<String> TEMPLATES = List.of("/drives/{drive_id}", "/network-interfaces/{iface_id}");

    private final FirecrackerApiSpec spec;
    private final String version;
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger maxOpen = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile String state = "Not started";
    private volatile boolean bootSourceSet;

    FakeFirecrackerApi(Path socket, FirecrackerApiSpec spec, String version) throws IOException {
        this.spec = spec;
        this.version = version;
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
            String field = template.contains("drive_id") ? "drive_id" : "iface_id";
            if (!id.equals(json.path(field).asText())) {
                return fault("The id from the path [" + id + "] does not match the id from the body ["
                        + json.path(field).asText() + "]!");
            }
        }
        switch (op) {
            case "GET /" -> {
                return new String[] {"200 OK", JSON.writeValueAsString(Map.of("id", "anonymous-instance", "state", state,
                        "vmm_version", version, "app_name", "Firecracker"))};
            }
            case "GET /version" -> {
                return new String[] {"200 OK", JSON.writeValueAsString(Map.of("firecracker_version", version))};
            }
            case "PUT /boot-source" -> bootSourceSet = true;
            case "PUT /actions" -> {
                String action = json.path("action_type").asText();
                if (action.equals("InstanceStart")) {
                    if (started) {
                        return fault("The requested operation is not supported after starting the microVM.");
                    }
                    if (!bootSourceSet) {
                        return fault("Cannot start microvm that was not configured: missing kernel configuration.");
                    }
                    state = "Running";
                } else if (!started) {
                    return fault("The requested operation is not supported before starting the microVM.");
                }
            }
            case "PATCH /vm" -> state = json.path("state").asText();
            default -> {
                // accepted and remembered nowhere: the fake checks requests, it runs no VM
            }
        }
        return new String[] {"204 No Content", ""};
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

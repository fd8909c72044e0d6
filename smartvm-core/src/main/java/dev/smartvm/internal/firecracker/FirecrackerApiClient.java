package dev.smartvm.internal.firecracker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Json;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;

/**
 * Firecracker's API over its Unix socket: HTTP/1.1 with fixed Content-Length bodies, kept-alive
 * connections, at most {@value #MAX_CONNECTIONS} at once. 200 and 204 are success; anything else
 * becomes a {@link FirecrackerApiException} with the status and Firecracker's fault_message.
 */
public final class FirecrackerApiClient implements AutoCloseable {
    public static final int MAX_CONNECTIONS = 10;

    private final UnixDomainSocketAddress address;
    private final Semaphore permits = new Semaphore(MAX_CONNECTIONS);
    private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    public FirecrackerApiClient(Path socket) {
        this.address = UnixDomainSocketAddress.of(socket);
    }

    /** One response: its status and body ("" when none). */
    public record Response(int status, String body) {
        public JsonNode json() {
            try {
                return Json.MAPPER.readTree(body.isEmpty() ? "{}" : body);
            } catch (JsonProcessingException e) {
                throw new SmartVmException(ErrorCode.VMM_ERROR, "Firecracker answered with malformed JSON: " + body, e);
            }
        }
    }

    public Response send(ApiRequest request) {
        return send(request.method(), request.path(), request.body());
    }

    /** Sends a request (body serialized as JSON, or none when null) and returns a 2xx response. */
    public Response send(String method, String path, Object body) {
        byte[] payload;
        try {
            payload = body == null ? new byte[0] : Json.MAPPER.writer().without(
                    com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "cannot serialize the body of " + method + " " + path, e);
        }
        if (closed) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "the Firecracker API client is closed");
        }
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted waiting for a Firecracker API connection", e);
        }
        try {
            Response r = exchange(method, path, payload);
            if (r.status() != 200 && r.status() != 204) {
                String fault = r.body();
                try {
                    fault = Json.MAPPER.readTree(r.body()).path("fault_message").asText(r.body());
                } catch (JsonProcessingException e) {
                    // not JSON: the raw body is the message
                }
                throw new FirecrackerApiException(method, path, r.status(), fault);
            }
            return r;
        } finally {
            permits.release();
        }
    }

    /** One exchange; a kept-alive connection the server closed meanwhile is replaced once. */
    private Response exchange(String method, String path, byte[] payload) {
        for (int attempt = 0; ; attempt++) {
            Connection c = idle.pollFirst();
            boolean reused = c != null;
            try {
                if (c == null) {
                    c = new Connection(SocketChannel.open(StandardProtocolFamily.UNIX));
                    c.channel.connect(address);
                }
                Response r = c.exchange(method, path, payload);
                if (c.keepAlive && !closed) {
                    idle.addFirst(c);
                } else {
                    c.close();
                }
                return r;
            } catch (IOException e) {
                if (c != null) {
                    c.close();
                }
                if (!(reused && attempt == 0)) {
                    throw new SmartVmException(ErrorCode.VMM_ERROR, method + " " + path + " to Firecracker failed: "
                            + e.getMessage(), e);
                }
            }
        }
    }

    /** How many connections are open and idle (for tests of reuse). */
    int idleConnections() {
        return idle.size();
    }

    @Override
    public void close() {
        closed = true;
        Connection c;
        while ((c = idle.pollFirst()) != null) {
            c.close();
        }
    }

    private static final class Connection {
        private static final int MAX_HEADER_LINE = 8192;
        private static final int MAX_BODY = 16 * 1024 * 1024;
        private final SocketChannel channel;
        private final InputStream in;
        private boolean keepAlive = true;

        Connection(SocketChannel channel) {
            this.channel = channel;
            this.in = new BufferedInputStream(Channels.newInputStream(channel));
        }

        Response exchange(String method, String path, byte[] payload) throws IOException {
            StringBuilder head = new StringBuilder().append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                    .append("Host: localhost\r\nAccept: application/json\r\n");
            if (payload.length > 0) {
                head.append("Content-Type: application/json\r\n");
            }
            head.append("Content-Length: ").append(payload.length).append("\r\n\r\n");
            ByteBuffer[] request = {ByteBuffer.wrap(head.toString().getBytes(StandardCharsets.US_ASCII)), ByteBuffer.wrap(payload)};
            while (request[0].hasRemaining() || request[1].hasRemaining()) {
                channel.write(request);
            }
            String status = line();
            String[] parts = status.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP response: " + status);
            }
            int code;
            try {
                code = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IOException("bad HTTP status line: " + status, e);
            }
            int length = 0;
            String header;
            while (!(header = line()).isEmpty()) {
                int colon = header.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = header.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                String value = header.substring(colon + 1).strip();
                if (name.equals("content-length")) {
                    length = Integer.parseInt(value);
                    if (length < 0 || length > MAX_BODY) {
                        throw new IOException("implausible Content-Length " + value);
                    }
                } else if (name.equals("connection") && value.equalsIgnoreCase("close")) {
                    keepAlive = false;
                } else if (name.equals("transfer-encoding")) {
                    throw new IOException("Firecracker sends fixed-length bodies; got Transfer-Encoding " + value);
                }
            }
            byte[] body = in.readNBytes(length);
            if (body.length != length) {
                throw new EOFException("the response body ended early");
            }
            return new Response(code, new String(body, StandardCharsets.UTF_8));
        }

        private String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) != '\n') {
                if (c < 0) {
                    throw new EOFException("the connection closed mid-response");
                }
                if (b.size() > MAX_HEADER_LINE) {
                    throw new IOException("an HTTP header line longer than " + MAX_HEADER_LINE + " bytes");
                }
                b.write(c);
            }
            String s = b.toString(StandardCharsets.US_ASCII);
            return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }

        void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}

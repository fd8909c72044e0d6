package dev.smartvm.internal;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** An HTTP server on loopback for download tests: serves what {@link #files()} holds, 404 otherwise, and logs each path asked. */
public final class StaticHttpServer implements AutoCloseable {
    private final HttpServer server;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();

    public StaticHttpServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", x -> {
            requests.add(x.getRequestURI().getPath());
            byte[] body = files.get(x.getRequestURI().getPath());
            x.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) {
                x.getResponseBody().write(body);
            }
            x.close();
        });
        server.start();
    }

    /** What is served, by absolute path; change it at will. */
    public Map<String, byte[]> files() {
        return files;
    }

    /** Every path asked for, in order. */
    public List<String> requests() {
        return requests;
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

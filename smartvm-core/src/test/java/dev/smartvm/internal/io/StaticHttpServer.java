package dev.smartvm.internal.io;

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
    private final Map<String, Long> announced = new ConcurrentHashMap<>();

    public StaticHttpServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", x -> {
            String path = x.getRequestURI().getPath();
            String query = x.getRequestURI().getRawQuery();
            requests.add(query == null ? path : path + "?" + query);
            byte[] body = query != null && files.containsKey(path + "?" + query) ? files.get(path + "?" + query) : files.get(path);
            Long length = announced.get(x.getRequestURI().getPath());
            x.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : length != null ? length : body.length);
            try {
                if (body != null) {
                    x.getResponseBody().write(body);
                }
                x.close();
            } catch (IOException e) {
                // a body shorter than announced: the connection just ends, as a dropped download does
            }
        });
        server.start();
    }

    /** What is served, by absolute path (or path?raw-query, which wins); change it at will. */
    public Map<String, byte[]> files() {
        return files;
    }

    /** Announces {@code length} for {@code path} whatever the body's size: a longer one is a body cut short. */
    public void announce(String path, long length) {
        announced.put(path, length);
    }

    /** Every path asked for (with ?query when there was one), in order. */
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

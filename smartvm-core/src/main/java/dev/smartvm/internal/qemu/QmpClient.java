package dev.smartvm.internal.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.UnixSockets;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * QEMU Machine Protocol over a Unix socket: greeting, capabilities negotiation, commands
 * matched to replies by id, and asynchronous events (SHUTDOWN, STOP, RESUME...) to listeners.
 */
public final class QmpClient implements AutoCloseable {
    private final SocketChannel channel;
    private final BufferedReader in;
    private final OutputStream out;
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<Consumer<JsonNode>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong ids = new AtomicLong();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final Object writeLock = new Object();

    private QmpClient(SocketChannel channel) {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        this.out = Channels.newOutputStream(channel);
    }

    /** Connects (retrying while the socket appears) and negotiates capabilities. */
    public static QmpClient connect(Path socket, Duration timeout, java.util.function.BooleanSupplier stillStarting) {
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel ch = null;
        try {
            ch = UnixSockets.connect(socket, deadline, stillStarting);
            QmpClient c = new QmpClient(ch);
            c.negotiate(Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1_000_000_000L)));
            return c;
        } catch (IOException | SmartVmException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            if (e instanceof SmartVmException s && s.code() == ErrorCode.INTERRUPTED) {
                throw s;
            }
            throw new SmartVmException(ErrorCode.VMM_ERROR, "cannot connect to QMP at " + socket + ": " + e.getMessage(), e);
        }
    }

    private void negotiate(Duration timeout) throws IOException {
        String greeting = in.readLine();
        if (greeting == null || !Json.MAPPER.readTree(greeting).has("QMP")) {
            throw new IOException("no QMP greeting, got: " + greeting);
        }
        Thread.ofPlatform().daemon().name("smartvm-qmp").start(this::readLoop);
        execute("qmp_capabilities", null, timeout);
    }

    public void addEventListener(Consumer<JsonNode> listener) {
        listeners.add(listener);
    }

    /** Runs a command and returns its "return" value; a QMP error becomes VMM_ERROR. */
    public JsonNode execute(String command, Map<String, Object> arguments, Duration timeout) {
        String id = Long.toString(ids.incrementAndGet());
        ObjectNode req = Json.MAPPER.createObjectNode().put("execute", command).put("id", id);
        if (arguments != null) {
            req.set("arguments", Json.MAPPER.valueToTree(arguments));
        }
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        try {
            synchronized (writeLock) {
                out.write((req + "\n").getBytes(StandardCharsets.UTF_8));
            }
            JsonNode r = reply.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (r.has("error")) {
                throw new SmartVmException(ErrorCode.VMM_ERROR, "QMP " + command + " failed: "
                        + r.path("error").path("desc").asText(r.toString()));
            }
            return r.path("return");
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.VMM_ERROR, "QMP " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted during QMP " + command, e);
        } catch (TimeoutException e) {
            throw new SmartVmException(ErrorCode.TIMEOUT, "QMP " + command + " got no answer in " + timeout);
        } catch (ExecutionException e) {
            throw new SmartVmException(ErrorCode.VMM_ERROR, "QMP " + command + ": " + e.getCause().getMessage(), e.getCause());
        } finally {
            pending.remove(id);
        }
    }

    private void readLoop() {
        try {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode msg = Json.MAPPER.readTree(line);
                if (msg.has("event")) {
                    listeners.forEach(l -> l.accept(msg));
                } else if (msg.has("id")) {
                    CompletableFuture<JsonNode> f = pending.get(msg.get("id").asText());
                    if (f != null) {
                        f.complete(msg);
                    }
                }
            }
        } catch (IOException e) {
            // the VMM went away or we closed: both end the session below
        } finally {
            IOException gone = new IOException("the QMP connection closed");
            pending.values().forEach(f -> f.completeExceptionally(gone));
            closed.complete(null);
        }
    }

    /** Completes when the VMM closed the connection (it exited) or we closed it. */
    public CompletableFuture<Void> closedFuture() {
        return closed;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}

package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.FileEvent;
import dev.smartvm.FileWatch;
import dev.smartvm.SmartVmException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WATCH request: OK, then EVENT frames queued for {@link #poll} until END (the directory went
 * away, or CANCEL was answered) or the connection closes. At most {@link #MAX_QUEUED} events
 * wait unread; beyond, the watch is cancelled and ends with an OVERFLOW event.
 */
final class WatchChannel implements StreamHandler, FileWatch {
    static final int MAX_QUEUED = 100_000;
    private static final FileEvent ENDED = new FileEvent(FileEvent.Kind.OVERFLOW, "", false);

    private final AgentConnection connection;
    private final String directory;
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final LinkedBlockingQueue<FileEvent> events = new LinkedBlockingQueue<>();
    private volatile boolean open = true;
    private int id;

    private WatchChannel(AgentConnection connection, String directory) {
        this.connection = connection;
        this.directory = directory;
    }

    static WatchChannel open(AgentConnection connection, String directory, boolean recursive, Duration timeout) {
        WatchChannel w = new WatchChannel(connection, directory);
        w.id = connection.register(w);
        try {
            connection.send(w.id, FrameType.WATCH, new PayloadWriter().str(directory).u8(recursive ? 1 : 0).toByteArray());
            Await.result(w.started, timeout, "the watch of " + directory + " to start");
            return w;
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    @Override
    public void onFrame(int type, byte[] payload) {
        switch (type) {
            case FrameType.OK -> started.complete(null);
            case FrameType.EVENT -> {
                PayloadReader r = new PayloadReader(payload);
                int kind = r.u8();
                boolean dir = r.u8() != 0;
                String path = r.str();
                FileEvent.Kind k = switch (kind) {
                    case 1 -> FileEvent.Kind.CREATED;
                    case 2 -> FileEvent.Kind.MODIFIED;
                    case 3 -> FileEvent.Kind.DELETED;
                    case 4 -> FileEvent.Kind.MOVED_FROM;
                    case 5 -> FileEvent.Kind.MOVED_TO;
                    case 6 -> FileEvent.Kind.OVERFLOW;
                    default -> null;
                };
                if (k == null || (k != FileEvent.Kind.OVERFLOW && !path.startsWith("/"))) {
                    throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "a malformed watch event (kind " + kind + ")");
                }
                if (events.size() >= MAX_QUEUED) {
                    events.add(new FileEvent(FileEvent.Kind.OVERFLOW, "", false));
                    end();
                    connection.sendQuietly(id, FrameType.CANCEL, new byte[0]);
                    return;
                }
                events.add(new FileEvent(k, path, dir));
            }
            case FrameType.END -> end();
            case FrameType.ERROR -> {
                SmartVmException e = AgentFiles.guestError(payload, "cannot watch " + directory + " in the guest");
                started.completeExceptionally(e);
                end();
            }
            default -> throw new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                    "unexpected frame type 0x" + Integer.toHexString(type) + " for a watch");
        }
    }

    private void end() {
        if (open) {
            open = false;
            connection.unregister(id);
            events.add(ENDED);
        }
    }

    @Override
    public void onClosed(SmartVmException cause) {
        started.completeExceptionally(cause);
        end();
    }

    @Override
    public FileEvent poll(Duration timeout) {
        try {
            FileEvent e = events.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (e == ENDED) {
                events.add(ENDED); // every later poll sees the end too
                return null;
            }
            return e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for a file event", e);
        }
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        if (open) {
            connection.sendQuietly(id, FrameType.CANCEL, new byte[0]); // the guest drops its inotify watch
            end();
        }
    }
}

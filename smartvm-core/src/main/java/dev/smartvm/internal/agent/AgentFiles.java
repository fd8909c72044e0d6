package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.FileEntry;
import dev.smartvm.FileWatch;
import dev.smartvm.GuestFiles;
import dev.smartvm.SmartVmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The files API over the agent protocol: STAT, LIST, MKDIR, REMOVE, RENAME, READ, PUT and WATCH. */
public final class AgentFiles implements GuestFiles {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private static final int ENOENT = 2;
    private static final int MAX_LISTED = 100_000;
    private final AgentClient client;

    public AgentFiles(AgentClient client) {
        this.client = client;
    }

    @Override
    public byte[] readBytes(String path) {
        return new FileRead(client.connection(), MAX_READ).run(checked(path), TIMEOUT);
    }

    @Override
    public void write(String path, byte[] data) {
        if (data == null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "no bytes to write (null)");
        }
        new TreeUpload(client.connection()).runBytes(data, 0644, checked(path), TIMEOUT);
    }

    @Override
    public List<FileEntry> list(String directory) {
        String dir = checked(directory);
        AgentConnection connection = client.connection();
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<FileEntry> entries = new ArrayList<>();
        int id = connection.register(new StreamHandler() {
            @Override
            public void onFrame(int type, byte[] payload) {
                switch (type) {
                    case FrameType.NAMES -> {
                        PayloadReader r = new PayloadReader(payload);
                        int n = r.u32();
                        if (n < 0 || entries.size() + n > MAX_LISTED) {
                            throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "a listing of more than " + MAX_LISTED + " entries");
                        }
                        for (int i = 0; i < n; i++) {
                            String name = r.str();
                            if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0) {
                                throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "a listed name that is not one: '" + name + "'");
                            }
                            entries.add(entry(join(dir, name), r));
                        }
                    }
                    case FrameType.END -> done.complete(null);
                    case FrameType.ERROR -> done.completeExceptionally(guestError(payload, "cannot list " + dir + " in the guest"));
                    default -> throw new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                            "unexpected frame type 0x" + Integer.toHexString(type) + " for a listing");
                }
            }

            @Override
            public void onClosed(SmartVmException cause) {
                done.completeExceptionally(cause);
            }
        });
        try {
            connection.send(id, FrameType.LIST, new PayloadWriter().str(dir).toByteArray());
            Await.result(done, TIMEOUT, "the listing of " + dir);
        } finally {
            connection.unregister(id);
        }
        entries.sort(Comparator.comparing(FileEntry::path));
        return List.copyOf(entries);
    }

    @Override
    public FileEntry stat(String path) {
        String p = checked(path);
        AgentClient.Reply reply = client.request(FrameType.STAT, new PayloadWriter().str(p).toByteArray(), TIMEOUT, "a stat of " + p);
        if (reply.type() != FrameType.STATS) {
            throw answerError(reply, "stat " + p);
        }
        return entry(p, new PayloadReader(reply.payload()));
    }

    @Override
    public boolean exists(String path) {
        try {
            stat(path);
            return true;
        } catch (SmartVmException e) {
            if (e.code() == ErrorCode.PATH_NOT_FOUND) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public void mkdirs(String path) {
        String p = checked(path);
        expectOk(FrameType.MKDIR, new PayloadWriter().str(p).u32(0755).toByteArray(), "create directory " + p);
    }

    @Override
    public void remove(String path, boolean recursive) {
        String p = checked(path);
        expectOk(FrameType.REMOVE, new PayloadWriter().str(p).u8(recursive ? 1 : 0).toByteArray(), "remove " + p);
    }

    @Override
    public void rename(String from, String to) {
        String f = checked(from);
        String t = checked(to);
        expectOk(FrameType.RENAME, new PayloadWriter().str(f).str(t).toByteArray(), "rename " + f + " to " + t);
    }

    @Override
    public FileWatch watch(String directory, boolean recursive) {
        return WatchChannel.open(client.connection(), checked(directory), recursive, TIMEOUT);
    }

    private void expectOk(int type, byte[] payload, String what) {
        AgentClient.Reply reply = client.request(type, payload, TIMEOUT, "the guest to " + what);
        if (reply.type() != FrameType.OK) {
            throw answerError(reply, what);
        }
    }

    private static SmartVmException answerError(AgentClient.Reply reply, String what) {
        if (reply.type() != FrameType.ERROR) {
            return new SmartVmException(ErrorCode.AGENT_PROTOCOL, "unexpected frame type 0x"
                    + Integer.toHexString(reply.type()) + " answering " + what);
        }
        return guestError(reply.payload(), "cannot " + what + " in the guest");
    }

    /** An ERROR frame as the exception a caller can act on, "{@code what}: the guest's reason"; its errno decides the code. */
    static SmartVmException guestError(byte[] payload, String what) {
        PayloadReader r = new PayloadReader(payload);
        int errno = r.u32();
        String message = r.str();
        ErrorCode code = switch (errno) {
            case ENOENT -> ErrorCode.PATH_NOT_FOUND;
            case 17, 20, 21, 22, 27, 39, 16 -> ErrorCode.INVALID_ARGUMENT; // EEXIST ENOTDIR EISDIR EINVAL EFBIG ENOTEMPTY EBUSY
            default -> ErrorCode.AGENT_ERROR;
        };
        return new SmartVmException(code, what + ": " + message);
    }

    /** A STATS payload (or a NAMES entry after its name). */
    private static FileEntry entry(String path, PayloadReader r) {
        int kind = r.u8();
        int mode = r.u32() & 07777;
        long size = r.u64();
        long seconds = r.u64();
        int nanos = r.u32();
        String link = r.str();
        FileEntry.Type type = switch (kind) {
            case FrameType.ENTRY_FILE -> FileEntry.Type.FILE;
            case FrameType.ENTRY_DIR -> FileEntry.Type.DIRECTORY;
            case FrameType.ENTRY_SYMLINK -> FileEntry.Type.SYMLINK;
            case FrameType.ENTRY_OTHER -> FileEntry.Type.OTHER;
            default -> throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "unknown file kind " + kind);
        };
        if (size < 0 || nanos < 0 || nanos > 999_999_999) {
            throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "implausible stat of " + path);
        }
        return new FileEntry(path, type, size, mode, Instant.ofEpochSecond(seconds, nanos), link);
    }

    private static String join(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }

    /** An absolute guest path without NUL; "/x/" is "/x". */
    static String checked(String path) {
        AgentClient.requireAbsolute(path);
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }
}

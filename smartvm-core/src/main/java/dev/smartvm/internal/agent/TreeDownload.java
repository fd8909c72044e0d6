package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Copies a guest file or tree to the host (GET). Everything the guest sends is untrusted:
 * relative paths are checked component by component, nothing is written through a symlink,
 * parent directories must be ones this transfer made (or the target itself), and file sizes
 * are enforced.
 */
final class TreeDownload implements StreamHandler {
    private static final int ENOENT = 2;
    private static final int EOPNOTSUPP = 95; // a device, FIFO or socket: the agent copies none
    private final AgentConnection connection;
    private final Path target;
    private final CompletableFuture<Long> result = new CompletableFuture<>();
    private final Set<Path> ownDirs = new HashSet<>();
    private final Deque<Path> dirModes = new ArrayDeque<>();
    private final Deque<Integer> dirModeValues = new ArrayDeque<>();
    private ReceiveWindow window;
    private int id;
    private OutputStream file;
    private Path filePath;
    private Path fileTemp;
    private int fileMode;
    private long fileLeft;
    private long bytes;
    private boolean sawRoot;
    private SmartVmException failure;

    TreeDownload(AgentConnection connection, Path target) {
        this.connection = connection;
        this.target = target;
    }

    long run(String guestPath, Duration timeout) {
        begin(guestPath);
        return await(timeout);
    }

    /** Asks for the tree; its frames are handled as they arrive. */
    void begin(String guestPath) {
        id = connection.register(this);
        window = new ReceiveWindow(connection, id);
        try {
            connection.send(id, FrameType.GET, new PayloadWriter().str(guestPath).toByteArray());
        } catch (RuntimeException e) {
            connection.unregister(id);
            throw e;
        }
    }

    /** Waits for the copy to end; returns the file bytes written. */
    long await(Duration timeout) {
        try {
            return Await.result(result, timeout, "the copy from the guest");
        } finally {
            connection.unregister(id);
            closeFile();
        }
    }

    @Override
    public synchronized void onFrame(int type, byte[] payload) {
        switch (type) {
            case FrameType.ENTRY -> guarded(() -> entry(new PayloadReader(payload)));
            case FrameType.DATA -> {
                window.received(payload.length);
                guarded(() -> data(payload));
                window.consumed(payload.length);
            }
            case FrameType.END -> {
                guarded(this::end);
                if (failure != null) {
                    result.completeExceptionally(failure);
                } else {
                    result.complete(bytes);
                }
            }
            case FrameType.ERROR -> {
                PayloadReader r = new PayloadReader(payload);
                int errno = r.u32();
                String message = r.str();
                result.completeExceptionally(new SmartVmException(
                        errno == ENOENT ? ErrorCode.PATH_NOT_FOUND : errno == EOPNOTSUPP ? ErrorCode.UNSUPPORTED : ErrorCode.AGENT_ERROR,
                        "copy from the guest failed: " + message));
            }
            default -> throw new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                    "unexpected frame type 0x" + Integer.toHexString(type) + " for a copy from the guest");
        }
    }

    private interface Step {
        void run() throws IOException;
    }

    /** After a failure the rest of the transfer is drained (so the guest can finish) and dropped. */
    private void guarded(Step step) {
        if (failure != null) {
            return;
        }
        try {
            step.run();
        } catch (SmartVmException e) {
            failure = e;
        } catch (IOException e) {
            failure = new SmartVmException(ErrorCode.IO_ERROR, "cannot write " + target + ": " + e.getMessage(), e);
        }
        if (failure != null) {
            closeFile();
        }
    }

    private void entry(PayloadReader r) throws IOException {
        int kind = r.u8();
        int mode = r.u32() & 07777;
        long size = r.u64();
        String rel = r.strictStr();
        String link = r.strictStr();
        if (rel == null || link == null) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "a guest file name (or link target) under the copied path"
                    + " is not valid UTF-8, which SmartVM cannot name on the host without merging it with another;"
                    + " rename it in the guest, or archive the tree there (tar) and copy the archive");
        }
        if (file != null) {
            throw protocol("a new entry started inside file " + filePath);
        }
        Path path = resolve(rel);
        switch (kind) {
            case FrameType.ENTRY_DIR -> {
                if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(path);
                    Files.createDirectory(path);
                }
                ownDirs.add(path);
                dirModes.push(path);
                dirModeValues.push(mode);
            }
            case FrameType.ENTRY_FILE -> {
                if (size < 0) {
                    throw protocol("negative file size for " + rel);
                }
                if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                    throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "cannot overwrite directory " + path
                            + " with a file");
                }
                // Written under a temporary name beside it and renamed once complete: an interrupted
                // copy never leaves a truncated file under the real name (nor replaces a good one).
                Path temp = path.resolveSibling("." + path.getFileName() + ".smartvm-part-"
                        + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong()));
                file = Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS);
                fileTemp = temp;
                filePath = path;
                fileMode = mode;
                fileLeft = size;
                if (size == 0) {
                    closeFile();
                }
            }
            case FrameType.ENTRY_SYMLINK -> {
                Files.deleteIfExists(path);
                Files.createSymbolicLink(path, Path.of(link));
            }
            default -> throw protocol("unknown entry kind " + kind);
        }
    }

    /** Maps a guest-relative path to the host, refusing anything that could leave the target. */
    private Path resolve(String rel) {
        if (rel.isEmpty()) {
            if (sawRoot) {
                throw protocol("a second root entry");
            }
            sawRoot = true;
            Path parent = target.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new SmartVmException(ErrorCode.PATH_NOT_FOUND, "host directory " + parent + " does not exist");
            }
            return target;
        }
        if (!sawRoot) {
            throw protocol("entry " + rel + " before the root entry");
        }
        Path path = target;
        String[] parts = rel.split("/", -1);
        for (String part : parts) {
            if (part.isEmpty() || part.equals(".") || part.equals("..") || part.indexOf('\0') >= 0) {
                throw new SmartVmException(ErrorCode.UNSAFE_PATH, "the guest sent the path '" + rel
                        + "', which would leave " + target);
            }
            if (!ownDirs.contains(path)) {
                throw new SmartVmException(ErrorCode.UNSAFE_PATH, "the guest sent '" + rel
                        + "' whose parent is not a directory of this copy");
            }
            path = path.resolve(part);
        }
        return path;
    }

    private void data(byte[] payload) throws IOException {
        if (file == null || payload.length > fileLeft) {
            throw protocol("file data beyond the announced size");
        }
        file.write(payload);
        fileLeft -= payload.length;
        bytes += payload.length;
        if (fileLeft == 0) {
            closeFile();
        }
    }

    private void end() throws IOException {
        if (file != null) {
            throw protocol("the transfer ended inside file " + filePath);
        }
        if (!sawRoot) {
            throw protocol("the transfer had no entries");
        }
        while (!dirModes.isEmpty()) {
            setMode(dirModes.pop(), dirModeValues.pop());
        }
    }

    /** Closes the current file: complete, it takes its real name; cut short, it is deleted. */
    private synchronized void closeFile() {
        if (file == null) {
            return;
        }
        boolean complete = false;
        try {
            file.close();
            if (fileLeft == 0 && failure == null) {
                setMode(fileTemp, fileMode);
                Files.move(fileTemp, filePath, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                complete = true;
            }
        } catch (IOException e) {
            if (failure == null) {
                failure = new SmartVmException(ErrorCode.IO_ERROR, "cannot write " + filePath + ": " + e.getMessage(), e);
            }
        } finally {
            file = null;
            if (!complete) {
                try {
                    Files.deleteIfExists(fileTemp);
                } catch (IOException ignored) {
                    // a leftover part file is named as one
                }
            }
        }
    }

    private static void setMode(Path path, int mode) throws IOException {
        Files.setAttribute(path, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }

    private static SmartVmException protocol(String message) {
        return new SmartVmException(ErrorCode.AGENT_PROTOCOL, message);
    }

    @Override
    public void onClosed(SmartVmException cause) {
        result.completeExceptionally(cause);
        closeFile();
    }
}

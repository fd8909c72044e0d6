package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.FileVisitor;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** Copies a host file or directory tree into the guest (PUT), keeping modes and symlinks. */
final class TreeUpload implements StreamHandler {
    private final AgentConnection connection;
    private final SendWindow window;
    private final CompletableFuture<Void> result = new CompletableFuture<>();
    private final byte[] buffer = new byte[FrameType.CHUNK];
    private int id;
    private long bytes;

    TreeUpload(AgentConnection connection) {
        this.connection = connection;
        this.window = new SendWindow(connection.window());
    }

    /** Returns the number of file bytes sent. */
    long run(Path source, String guestDest, Duration timeout) {
        if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
            throw new SmartVmException(ErrorCode.PATH_NOT_FOUND, "no such host file or directory: " + source);
        }
        Path name = source.toAbsolutePath().normalize().getFileName();
        refuseUnnameableNames(source);
        return transfer(guestDest, name == null ? "" : name.toString(), () -> sendTree(source), timeout);
    }

    /**
     * Writes {@code data} as the guest file {@code guestPath} (mode {@code mode}), which it
     * replaces whole once complete; never into a directory of that name. Returns the bytes sent.
     */
    long runBytes(byte[] data, int mode, String guestPath, Duration timeout) {
        return transfer(guestPath, "", () -> {
            connection.send(id, FrameType.ENTRY, new PayloadWriter().u8(FrameType.ENTRY_FILE).u32(mode).u64(data.length)
                    .str("").str("").toByteArray());
            for (int off = 0; off < data.length && !result.isDone();) {
                int n = window.take(Math.min(data.length - off, FrameType.CHUNK));
                connection.send(id, FrameType.DATA, data, off, n);
                off += n;
                bytes += n;
            }
        }, timeout);
    }

    /** PUT to {@code guestDest} (into it as {@code baseName} when it is a directory and the name is not ""), then the entries. */
    private long transfer(String guestDest, String baseName, Runnable entries, Duration timeout) {
        id = connection.register(this);
        try {
            connection.send(id, FrameType.PUT, new PayloadWriter().str(guestDest).str(baseName).toByteArray());
            try {
                entries.run();
            } finally {
                // The agent keeps a failed transfer until END: always send it.
                connection.sendQuietly(id, FrameType.END, new byte[0]);
            }
            Await.result(result, timeout, "the copy into the guest");
            return bytes;
        } finally {
            connection.unregister(id);
        }
    }

    /**
     * Names travel as UTF-8: a host name that is not valid UTF-8 would reach the guest changed,
     * and two such names as one. The whole tree is checked before anything is sent.
     */
    private static void refuseUnnameableNames(Path source) {
        walk(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                check(dir.getFileName(), dir);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                check(file.getFileName(), file);
                if (attrs.isSymbolicLink()) {
                    check(Files.readSymbolicLink(file), file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Walks the host tree, reporting a file that vanished or cannot be read as the copy's failure. */
    private static void walk(Path source, FileVisitor<Path> visitor) {
        try {
            Files.walkFileTree(source, visitor);
        } catch (NoSuchFileException e) {
            throw new SmartVmException(ErrorCode.PATH_NOT_FOUND, "host file vanished during the copy: " + e.getFile(), e);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot read " + source + ": " + e.getMessage(), e);
        }
    }

    /** A name whose bytes its text does not give back (not valid UTF-8) cannot be sent as it is. */
    private static void check(Path name, Path where) {
        if (name != null && !name.equals(name.getFileSystem().getPath(name.toString()))) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "the host file name (or link target) of " + where
                    + " is not valid UTF-8, which SmartVM cannot name in the guest without merging it with another;"
                    + " rename it, or archive the tree (tar) and copy the archive");
        }
    }

    private void sendTree(Path source) {
        walk(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                entry(source, dir, FrameType.ENTRY_DIR, 0, "");
                return result.isDone() ? FileVisitResult.TERMINATE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isSymbolicLink()) {
                    entry(source, file, FrameType.ENTRY_SYMLINK, 0, Files.readSymbolicLink(file).toString());
                } else if (attrs.isRegularFile()) {
                    sendFile(source, file, attrs.size());
                }
                return result.isDone() ? FileVisitResult.TERMINATE : FileVisitResult.CONTINUE;
            }
        });
    }

    private void entry(Path root, Path path, int kind, long size, String link) throws IOException {
        String rel = root.equals(path) ? "" : root.relativize(path).toString();
        connection.send(id, FrameType.ENTRY, new PayloadWriter().u8(kind).u32(mode(path)).u64(size)
                .str(rel).str(link).toByteArray());
    }

    private void sendFile(Path root, Path file, long size) throws IOException {
        entry(root, file, FrameType.ENTRY_FILE, size, "");
        long left = size;
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            while (left > 0 && !result.isDone()) {
                int n = window.take((int) Math.min(left, buffer.length));
                int got = in.readNBytes(buffer, 0, n);
                if (got < n) {
                    throw new SmartVmException(ErrorCode.IO_ERROR, file + " shrank while it was copied");
                }
                connection.send(id, FrameType.DATA, buffer, 0, n);
                left -= n;
                bytes += n;
            }
        }
    }

    /** The full mode (setuid, setgid and sticky included) where the JDK exposes it. */
    static int mode(Path path) throws IOException {
        try {
            return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            int mode = 0;
            for (PosixFilePermission p : Files.readAttributes(path, PosixFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).permissions()) {
                mode |= 1 << (8 - p.ordinal());
            }
            return mode;
        }
    }

    @Override
    public void onFrame(int type, byte[] payload) {
        switch (type) {
            case FrameType.WINDOW -> window.grant(Integer.toUnsignedLong(new PayloadReader(payload).u32()));
            case FrameType.OK -> result.complete(null);
            case FrameType.ERROR -> {
                SmartVmException e = AgentFiles.guestError(payload, "copy into the guest failed");
                result.completeExceptionally(e);
                window.fail(e);
            }
            default -> throw new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                    "unexpected frame type 0x" + Integer.toHexString(type) + " for a copy into the guest");
        }
    }

    @Override
    public void onClosed(SmartVmException cause) {
        result.completeExceptionally(cause);
        window.fail(cause);
    }
}

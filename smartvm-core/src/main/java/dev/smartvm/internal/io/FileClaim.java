package dev.smartvm.internal.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A long-lived claim on a file, exclusive across threads and processes (an in-process set plus
 * an OS file lock), that any thread may release: unlike {@link LockFile}, it is not tied to the
 * thread that took it. For resources held as long as a connection lives. Dies with its process.
 */
public final class FileClaim implements AutoCloseable {
    private static final Set<Path> CLAIMED = ConcurrentHashMap.newKeySet();

    private final Path key;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean closed;

    private FileClaim(Path key, FileChannel channel, FileLock lock) {
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    /** The claim, or empty when this or another process holds it; never waits. */
    public static Optional<FileClaim> tryClaim(Path path) {
        Path key = path.toAbsolutePath().normalize();
        if (!CLAIMED.add(key)) {
            return Optional.empty();
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = ch.tryLock();
            if (lock != null) {
                return Optional.of(new FileClaim(key, ch, lock));
            }
            ch.close();
            CLAIMED.remove(key);
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            CLAIMED.remove(key);
            throw LockFile.failedToLock(key, ch, e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            LockFile.release(lock, channel);
        } finally {
            CLAIMED.remove(key);
        }
    }
}

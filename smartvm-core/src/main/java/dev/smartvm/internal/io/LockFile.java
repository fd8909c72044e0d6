package dev.smartvm.internal.io;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An exclusive lock shared by threads of this JVM (a ReentrantLock per path) and by other
 * processes (an OS file lock), held until {@link #close()}.
 */
public final class LockFile implements AutoCloseable {
    private static final Map<Path, ReentrantLock> LOCAL = new ConcurrentHashMap<>();

    private final ReentrantLock local;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean closed;

    private LockFile(ReentrantLock local, FileChannel channel, FileLock lock) {
        this.local = local;
        this.channel = channel;
        this.lock = lock;
    }

    /** Blocks until this thread holds the lock. */
    public static LockFile acquire(Path path) {
        Path key = path.toAbsolutePath().normalize();
        ReentrantLock local = LOCAL.computeIfAbsent(key, k -> new ReentrantLock());
        local.lock();
        return lockFile(key, local, true);
    }

    /**
     * The lock if no thread of this JVM and no other process holds it, else empty; never waits.
     * A lock whose holder died is free: the OS drops a file lock with its process. Unlike
     * {@link #acquire}, the lock's directory must exist.
     */
    public static java.util.Optional<LockFile> tryAcquire(Path path) {
        Path key = path.toAbsolutePath().normalize();
        ReentrantLock local = LOCAL.computeIfAbsent(key, k -> new ReentrantLock());
        if (local.isHeldByCurrentThread() || !local.tryLock()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.ofNullable(lockFile(key, local, false));
    }

    /**
     * {@link #tryAcquire(Path)}, tried again every 10 ms for up to {@code patience}: waits out a
     * holder that takes the lock only for a moment, not one that keeps it.
     */
    public static java.util.Optional<LockFile> tryAcquire(Path path, java.time.Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        for (;;) {
            java.util.Optional<LockFile> lock = tryAcquire(path);
            if (lock.isPresent() || System.nanoTime() > deadline) {
                return lock;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for the lock " + path, e);
            }
        }
    }

    /**
     * Takes the file lock of {@code key}, whose in-process lock this thread holds: waiting for it
     * (and making its directory), or not (null when another process holds it). Whenever no
     * LockFile is returned, the in-process lock is released.
     */
    private static LockFile lockFile(Path key, ReentrantLock local, boolean wait) {
        FileChannel ch = null;
        try {
            if (wait) {
                Files.createDirectories(key.getParent());
            }
            ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = wait ? ch.lock() : ch.tryLock();
            if (lock != null) {
                return new LockFile(local, ch, lock);
            }
            ch.close();
            local.unlock();
            return null;
        } catch (IOException | RuntimeException e) {
            local.unlock();
            throw failedToLock(key, ch, e);
        }
    }

    /** Closes what a failed attempt to lock {@code key} opened; the error to throw. */
    static SmartVmException failedToLock(Path key, FileChannel opened, Exception e) {
        release(null, opened);
        return new SmartVmException(ErrorCode.IO_ERROR, "cannot lock " + key + ": " + e.getMessage(), e);
    }

    /** Releases a file lock and closes its channel (either may be null); the OS drops the lock with the descriptor anyway. */
    static void release(FileLock lock, FileChannel channel) {
        try {
            if (lock != null) {
                lock.release();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // nothing left to undo
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            release(lock, channel);
        } finally {
            local.unlock();
        }
    }
}

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
 * processes (an OS file lock), held until {@link #close()}. A lock file whose object is gone
 * can be deleted safely ({@link #deleteIfFree}).
 */
public final class LockFile implements AutoCloseable {
    private static final Map<Path, ReentrantLock> LOCAL = new ConcurrentHashMap<>();
    private static final java.util.concurrent.atomic.AtomicLong MARKS = new java.util.concurrent.atomic.AtomicLong();
    /** The length of a holder's mark (pid, counter and clock, space-padded). */
    private static final int MARK_BYTES = 64;

    private final Path path;
    /** The lock file opened through its path once locked, to check it is the one locked (see stillAt); closed last. */
    private final FileChannel again;
    private final ReentrantLock local;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean closed;

    private LockFile(Path path, ReentrantLock local, FileChannel channel, FileLock lock, FileChannel again) {
        this.path = path;
        this.again = again;
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
     * LockFile is returned, the in-process lock is released. A lock file may be deleted by its
     * holder ({@link #deleteIfFree}): one locked after it left its path is let go and the file now
     * at the path is taken instead.
     */
    private static LockFile lockFile(Path key, ReentrantLock local, boolean wait) {
        FileChannel ch = null;
        try {
            for (;;) {
                if (wait) {
                    Files.createDirectories(key.getParent());
                }
                ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = wait ? ch.lock() : ch.tryLock();
                if (lock == null) {
                    ch.close();
                    local.unlock();
                    return null;
                }
                FileChannel again = stillAt(key, ch);
                if (again != null) {
                    return new LockFile(key, local, ch, lock, again);
                }
                release(lock, ch);
            }
        } catch (IOException | RuntimeException e) {
            local.unlock();
            throw failedToLock(key, ch, e);
        }
    }

    /**
     * The file at {@code key}, opened again, if it is the one locked through {@code ch}, else
     * null: the holder writes a mark only it can write (every writer of a lock file holds its
     * lock) and reads it back through the path. The second descriptor is kept open while the lock
     * is held, since closing any descriptor of a file drops the process's POSIX locks on it.
     */
    private static FileChannel stillAt(Path key, FileChannel ch) throws IOException {
        // Of one length, written over the last one in place: truncating and growing the file made a lock 10 times dearer.
        byte[] mark = String.format("%-" + MARK_BYTES + "s", ProcessHandle.current().pid() + " " + MARKS.incrementAndGet()
                + " " + System.nanoTime()).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        ch.write(java.nio.ByteBuffer.wrap(mark), 0);
        FileChannel again;
        try {
            again = FileChannel.open(key, StandardOpenOption.READ);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
        java.nio.ByteBuffer read = java.nio.ByteBuffer.allocate(MARK_BYTES);
        while (read.hasRemaining() && again.read(read) > 0) {
            // a few bytes
        }
        if (!read.hasRemaining() && java.util.Arrays.equals(read.array(), mark)) {
            return again;
        }
        again.close(); // another file: this process holds no lock on it
        return null;
    }

    /**
     * Whether no thread of this JVM and no other process holds the lock (which is taken and let
     * go to tell); true when its directory is gone (removed meanwhile): no file there to hold.
     */
    public static boolean isFree(Path path) {
        try {
            java.util.Optional<LockFile> free = tryAcquire(path);
            free.ifPresent(LockFile::close);
            return free.isPresent();
        } catch (SmartVmException e) {
            if (e.getCause() instanceof java.nio.file.NoSuchFileException) {
                return true;
            }
            throw e;
        }
    }

    /**
     * Deletes the lock file {@code path} if no one holds it, holding it meanwhile; false when it
     * is held (or gone). Whoever opened it before and locks it after finds it gone and takes the
     * file made at the path since.
     */
    public static boolean deleteIfFree(Path path) {
        java.util.Optional<LockFile> free = Files.exists(path) ? tryAcquire(path) : java.util.Optional.empty();
        if (free.isEmpty()) {
            return false;
        }
        try (LockFile held = free.get()) {
            held.deleteFile();
            return true;
        }
    }

    /**
     * Deletes this lock's file, still holding it, once what it guards is gone (a removed image, a
     * finished save): whoever opened the file before and locks it after takes the one made since.
     */
    public void deleteFile() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot delete " + path + ": " + e.getMessage(), e);
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
            release(null, again);
        } finally {
            local.unlock();
        }
    }
}

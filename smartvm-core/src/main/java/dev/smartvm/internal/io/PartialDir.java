package dev.smartvm.internal.io;

import dev.smartvm.Leftover;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A hidden directory ({@code .partial-<8 hex>}) that a maker fills and then renames into place,
 * with a sibling lock file ({@code .partial-<8 hex>.lock}) held while it is made. The lock is
 * taken before the directory exists: a directory whose lock is free was left by a maker that
 * died, and {@link #sweep} removes it. Closing removes the directory unless it was renamed away,
 * then the lock file (deleted while held), then lets go of the lock.
 */
public final class PartialDir implements AutoCloseable {
    private static final String PREFIX = ".partial-";
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Path path;
    private final LockFile lock;

    private PartialDir(Path path, LockFile lock) {
        this.path = path;
        this.lock = lock;
    }

    /** A new one in {@code parent} (made if missing), its lock held. Its name is short: an engine's sockets may live under it. */
    public static PartialDir make(Path parent) throws IOException {
        Files.createDirectories(parent);
        while (true) {
            byte[] b = new byte[4];
            RANDOM.nextBytes(b);
            Path dir = parent.resolve(PREFIX + HexFormat.of().formatHex(b));
            Optional<LockFile> lock = LockFile.tryAcquire(lockOf(dir));
            if (lock.isEmpty()) {
                continue; // another one's: draw again
            }
            try {
                return new PartialDir(Files.createDirectory(dir), lock.get());
            } catch (FileAlreadyExistsException taken) {
                lock.get().close(); // left by one that died, for sweep: draw again
            } catch (IOException | RuntimeException e) {
                deleteQuietly(lockOf(dir)); // deleted while held
                lock.get().close();
                throw e;
            }
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        try {
            FileTrees.deleteQuietly(path); // nothing there once renamed into place
        } finally {
            deleteQuietly(lockOf(path)); // deleted while held
            lock.close();
        }
    }

    private static Path lockOf(Path partial) {
        return partial.resolveSibling(partial.getFileName() + ".lock");
    }

    private static void deleteQuietly(Path lockFile) {
        try {
            Files.deleteIfExists(lockFile);
        } catch (IOException e) {
            // a lock file of none is harmless: the next sweep takes it
        }
    }

    /**
     * Finds (and, unless a dry run, removes) what makers that died left in {@code parent}: partial
     * directories whose lock is free, with {@code first} run on each before it goes, and lock files
     * of none.
     *
     * @param leftDir the reason a left directory is given
     * @param leftLock the reason a left lock file is given
     */
    public static void sweep(Path parent, Sweep sweep, String leftDir, String leftLock, Consumer<Path> first) {
        if (!Files.isDirectory(parent)) {
            return;
        }
        List<Path> hidden = new ArrayList<>();
        try (Stream<Path> entries = Files.list(parent)) {
            entries.filter(d -> d.getFileName().toString().startsWith(PREFIX)).forEach(hidden::add);
        } catch (IOException e) {
            return;
        }
        for (Path p : hidden) {
            if (Files.isDirectory(p)) {
                Optional<LockFile> free = LockFile.tryAcquire(lockOf(p));
                if (free.isPresent()) {
                    try (LockFile held = free.get()) {
                        sweep.found(Leftover.Kind.PARTIAL_SAVE, p.toString(), leftDir, () -> {
                            first.accept(p);
                            FileTrees.deleteQuietly(p);
                            deleteQuietly(lockOf(p));
                        });
                    }
                }
            } else if (p.getFileName().toString().endsWith(".lock") && !Files.isDirectory(p.resolveSibling(
                    p.getFileName().toString().replaceFirst("\\.lock$", ""))) && LockFile.isFree(p)) {
                sweep.found(Leftover.Kind.LOCK, p.toString(), leftLock, () -> LockFile.deleteIfFree(p));
            }
        }
    }
}

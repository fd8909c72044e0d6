package dev.smartvm.internal.snapshot;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.SnapshotInfo;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.LockFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The snapshots of a home, under {@code $SMARTVM_HOME/snapshots}: one directory each, whose
 * manifest ({@code snapshot.json}) is written last. A snapshot is made in a hidden directory
 * of its own, under a lock its maker holds, and renamed into place once whole: a maker that
 * dies leaves a hidden directory with a free lock, which the next store removes.
 */
public final class SnapshotStore {
    public static final String MANIFEST = "snapshot.json";
    private static final String PARTIAL = ".partial-";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private final Path dir;

    public SnapshotStore(Path dir) {
        this.dir = dir;
    }

    /** A snapshot being made: its files go in {@link #dir()}; {@link #commit} puts it in place, close removes it otherwise. */
    public final class Partial implements AutoCloseable {
        private final String name;
        private final Path partialDir;
        private final LockFile lock;
        private boolean committed;

        private Partial(String name, Path partialDir, LockFile lock) {
            this.name = name;
            this.partialDir = partialDir;
            this.lock = lock;
        }

        public Path dir() {
            return partialDir;
        }

        /** Writes the manifest last, and renames the whole into place. */
        public SnapshotInfo commit(SnapshotInfo info) {
            Path target = dir.resolve(name);
            SnapshotInfo placed = new SnapshotInfo(info.name(), info.vm(), info.backend(), info.engineVersion(),
                    info.acceleration(), info.spec(), info.createdAt(), FileTrees.size(partialDir), target);
            Json.write(partialDir.resolve(MANIFEST), placed);
            try {
                Files.move(partialDir, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                throw new SmartVmException(ErrorCode.NAME_IN_USE, "a snapshot named '" + name + "' was made meanwhile");
            } catch (IOException e) {
                throw new SmartVmException(ErrorCode.IO_ERROR, "cannot put snapshot " + name + " in place: " + e.getMessage(), e);
            }
            committed = true;
            return placed;
        }

        @Override
        public void close() {
            try {
                if (!committed) {
                    FileTrees.deleteQuietly(partialDir);
                }
            } finally {
                lock.close();
                deleteQuietly(lockFile(partialDir)); // its directory is gone, or renamed into place
            }
        }
    }

    /**
     * Starts a snapshot called {@code name}.
     *
     * @throws SmartVmException INVALID_ARGUMENT for a bad name; NAME_IN_USE when one exists
     */
    public Partial begin(String name) {
        checkName(name);
        if (Files.exists(dir.resolve(name))) {
            throw new SmartVmException(ErrorCode.NAME_IN_USE, "a snapshot named '" + name + "' already exists; remove it"
                    + " with 'smartvm snapshot rm " + name + "' or choose another name");
        }
        try {
            Files.createDirectories(dir);
            Path partial = Files.createTempDirectory(dir, PARTIAL + name + "-");
            LockFile lock = LockFile.tryAcquire(lockFile(partial)).orElseThrow();
            return new Partial(name, partial, lock);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static Path lockFile(Path partial) {
        return partial.resolveSibling(partial.getFileName() + ".lock");
    }

    public Optional<SnapshotInfo> find(String name) {
        if (!NAME.matcher(name).matches()) {
            return Optional.empty();
        }
        Path manifest = dir.resolve(name).resolve(MANIFEST);
        return Files.isRegularFile(manifest) ? Optional.of(read(dir.resolve(name))) : Optional.empty();
    }

    /** @throws SmartVmException SNAPSHOT_NOT_FOUND when there is none */
    public SnapshotInfo get(String name) {
        return find(name).orElseThrow(() -> new SmartVmException(ErrorCode.SNAPSHOT_NOT_FOUND, "no snapshot named '" + name
                + "'; 'smartvm snapshot ls' lists them"));
    }

    /** Every snapshot, oldest first. */
    public List<SnapshotInfo> list() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(dir)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve(MANIFEST))).map(SnapshotStore::read)
                    .sorted(Comparator.comparing(SnapshotInfo::createdAt)).toList();
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** @throws SmartVmException SNAPSHOT_NOT_FOUND when there is none */
    public void remove(String name) {
        SnapshotInfo s = get(name);
        try {
            FileTrees.delete(s.directory());
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot remove snapshot " + name + ": " + e.getMessage(), e);
        }
    }

    /** Removes what makers that died left: hidden directories whose lock is free. */
    public void reapPartials() {
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<Path> partials = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(dir)) {
            dirs.filter(d -> d.getFileName().toString().startsWith(PARTIAL) && Files.isDirectory(d)).forEach(partials::add);
        } catch (IOException e) {
            return;
        }
        for (Path p : partials) {
            Optional<LockFile> free = LockFile.tryAcquire(lockFile(p));
            if (free.isPresent()) {
                try (LockFile held = free.get()) {
                    FileTrees.deleteQuietly(p);
                }
                deleteQuietly(lockFile(p));
            }
        }
    }

    private static SnapshotInfo read(Path snapshotDir) {
        SnapshotInfo s = Json.read(snapshotDir.resolve(MANIFEST), SnapshotInfo.class);
        return new SnapshotInfo(s.name(), s.vm(), s.backend(), s.engineVersion(), s.acceleration(), s.spec(), s.createdAt(),
                s.sizeBytes(), snapshotDir); // where it is now
    }

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a snapshot name is 1 to 63 letters, digits, '_', '.' or"
                    + " '-', starting with a letter or digit; found '" + name + "'");
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a lock file left is harmless: the next reap takes it
        }
    }
}

package dev.smartvm.internal.snapshot;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.SnapshotInfo;
import dev.smartvm.TemplateInfo;
import dev.smartvm.internal.host.HostProcess;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.PartialDir;
import dev.smartvm.internal.io.Sweep;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Saved VMs of one kind (snapshots under {@code $SMARTVM_HOME/snapshots}, templates under
 * {@code $SMARTVM_HOME/templates}): one directory each, whose manifest is written last. One is
 * made in a hidden directory of its own, under a lock its maker holds, and renamed into place
 * once whole: a maker that dies leaves a hidden directory with a free lock, which the next
 * store removes.
 *
 * @param <T> the manifest
 */
public final class SavedStore<T> {
    /**
     * In a hidden directory, while an engine's process works for its maker (the QEMU that turns a
     * saved state into a fork's template): "PID START_EPOCH_MILLIS". A reaper kills it first.
     */
    public static final String VMM_PID = "vmm.pid";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private final Path dir;
    private final String kind;
    private final String manifest;
    private final Class<T> type;
    private final ErrorCode notFound;
    private final Function<T, java.time.Instant> createdAt;
    /** The manifest as read, given where its directory is now. */
    private final BiFunction<T, Path, T> relocated;

    private SavedStore(Path dir, String kind, Class<T> type, ErrorCode notFound,
            Function<T, java.time.Instant> createdAt, BiFunction<T, Path, T> relocated) {
        this.dir = dir;
        this.kind = kind;
        this.manifest = kind + ".json";
        this.type = type;
        this.notFound = notFound;
        this.createdAt = createdAt;
        this.relocated = relocated;
    }

    public static SavedStore<SnapshotInfo> snapshots(Path dir) {
        return new SavedStore<>(dir, "snapshot", SnapshotInfo.class, ErrorCode.SNAPSHOT_NOT_FOUND,
                SnapshotInfo::createdAt, (s, at) -> new SnapshotInfo(s.name(), s.vm(), s.backend(), s.engineVersion(),
                        s.acceleration(), s.spec(), s.createdAt(), s.sizeBytes(), at));
    }

    public static SavedStore<TemplateInfo> templates(Path dir) {
        return new SavedStore<>(dir, "template", TemplateInfo.class, ErrorCode.TEMPLATE_NOT_FOUND,
                TemplateInfo::createdAt, (t, at) -> new TemplateInfo(t.name(), t.backend(), t.engineVersion(),
                        t.acceleration(), t.spec(), t.prepare(), t.createdAt(), t.sizeBytes(), at, t.forkedFrom()));
    }

    /** One being made: its files go in {@link #dir()}; {@link #commit} puts it in place, close removes it otherwise. */
    public final class Partial implements AutoCloseable {
        private final String name;
        private final PartialDir made;

        private Partial(String name, PartialDir made) {
            this.name = name;
            this.made = made;
        }

        public Path dir() {
            return made.path();
        }

        /**
         * Writes the manifest last, and renames the whole into place.
         *
         * @param info the manifest, given the size of what was written and where it goes
         */
        public T commit(BiFunction<Long, Path, T> info) {
            Path target = dir.resolve(name);
            T placed = info.apply(FileTrees.size(made.path()), target);
            Json.write(made.path().resolve(manifest), placed);
            try {
                Files.move(made.path(), target, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                throw new SmartVmException(ErrorCode.NAME_IN_USE, "a " + kind + " named '" + name + "' was made meanwhile");
            } catch (IOException e) {
                throw new SmartVmException(ErrorCode.IO_ERROR, "cannot put " + kind + " " + name + " in place: " + e.getMessage(), e);
            }
            return placed;
        }

        /** Removes it unless it was put in place. */
        @Override
        public void close() {
            made.close();
        }
    }

    /**
     * Starts one called {@code name}.
     *
     * @throws SmartVmException INVALID_ARGUMENT for a bad name; NAME_IN_USE when one exists
     */
    public Partial begin(String name) {
        checkName(name);
        if (Files.exists(dir.resolve(name))) {
            throw new SmartVmException(ErrorCode.NAME_IN_USE, "a " + kind + " named '" + name + "' already exists; remove it"
                    + " with 'smartvm " + kind + " rm " + name + "' or choose another name");
        }
        try {
            return new Partial(name, PartialDir.make(dir)); // a short name: an engine's sockets may live under it (a fork's loader)
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write in " + dir + ": " + e.getMessage(), e);
        }
    }

    public Optional<T> find(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            return Optional.empty();
        }
        return Files.isRegularFile(dir.resolve(name).resolve(manifest)) ? Optional.of(read(dir.resolve(name))) : Optional.empty();
    }

    /** @throws SmartVmException SNAPSHOT_NOT_FOUND or TEMPLATE_NOT_FOUND when there is none */
    public T get(String name) {
        return find(name).orElseThrow(() -> new SmartVmException(notFound, "no " + kind + " named '" + name
                + "'; 'smartvm " + kind + " ls' lists them"));
    }

    /** Every one, oldest first. */
    public List<T> list() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(dir)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve(manifest))).map(this::read)
                    .sorted(Comparator.comparing(createdAt)).toList();
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes one: its manifest first (from then on it is not found), then the rest.
     *
     * @throws SmartVmException SNAPSHOT_NOT_FOUND or TEMPLATE_NOT_FOUND when there is none
     */
    public void remove(String name) {
        get(name);
        Path target = dir.resolve(name);
        try {
            Files.delete(target.resolve(manifest));
            FileTrees.delete(target);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot remove " + kind + " " + name + ": " + e.getMessage(), e);
        }
    }

    /** Removes what makers that died left: hidden directories whose lock is free. */
    public void reapPartials() {
        sweepPartials(new Sweep(false));
    }

    /**
     * Finds (and, unless a dry run, removes) what makers that died left: hidden directories
     * whose lock is free, with the worker each may have started, and lock files of none.
     */
    public void sweepPartials(Sweep sweep) {
        PartialDir.sweep(dir, sweep, "a " + kind + " whose maker died before it was saved", "the lock of a " + kind
                + " no longer being made", p -> killWorker(p.resolve(VMM_PID)));
    }

    /** Kills the process a {@link #VMM_PID} file names, if it is still the one that was started. */
    private static void killWorker(Path pidFile) {
        try {
            String[] f = Files.readString(pidFile).strip().split(" ");
            HostProcess.kill(Long.parseLong(f[0]), java.time.Instant.ofEpochMilli(Long.parseLong(f[1])));
        } catch (IOException | RuntimeException e) {
            // none, or a half-written one: its process, if any, had not started working
        }
    }

    private T read(Path savedDir) {
        return relocated.apply(Json.read(savedDir.resolve(manifest), type), savedDir); // where it is now
    }

    private void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a " + kind + " name is 1 to 63 letters, digits, '_', '.' or"
                    + " '-', starting with a letter or digit; found '" + name + "'");
        }
    }
}

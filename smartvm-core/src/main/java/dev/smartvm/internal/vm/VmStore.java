package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import dev.smartvm.VmState;
import dev.smartvm.internal.io.AtomicFiles;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.LockFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.stream.Stream;

/** The VM directories under {@code $SMARTVM_HOME/vms}: one per VM, named by its id. */
public final class VmStore {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Path vmsDir;
    /** One writer per VM at a time (in this process; the file itself is replaced atomically). */
    private final Map<String, ReentrantLock> writers = new ConcurrentHashMap<>();

    public VmStore(Path vmsDir) {
        this.vmsDir = vmsDir;
    }

    /** Where the VMs' directories are. */
    public Path root() {
        return vmsDir;
    }

    public Path dir(String id) {
        return vmsDir.resolve(id);
    }

    /** Runs {@code action} holding the lock under which VMs are made and named (across processes). */
    public void underNamesLock(Runnable action) {
        underNamesLock(() -> {
            action.run();
            return null;
        });
    }

    /** As {@link #underNamesLock(Runnable)}, for an action with a result. */
    @SuppressWarnings("try") // the lock is held for the block
    private <T> T underNamesLock(Supplier<T> action) {
        try {
            Files.createDirectories(vmsDir);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot create " + vmsDir + ": " + e.getMessage(), e);
        }
        try (LockFile lock = LockFile.acquire(vmsDir.resolve(".names.lock"))) {
            return action.get();
        }
    }

    /**
     * Throws NAME_IN_USE when a VM is named {@code name}; under {@link #underNamesLock} the name
     * stays free until the action ends.
     */
    public void requireFreeName(String name) {
        if (find(name).isPresent()) {
            throw new SmartVmException(ErrorCode.NAME_IN_USE, "a VM named '" + name
                    + "' already exists; remove it with 'smartvm rm " + name + "' or choose another name");
        }
    }

    /** Makes the directory and first record of a new VM; names are unique across processes. */
    public VmRecord create(VmSpec spec, long ownerPid, java.time.Instant ownerStartedAt) {
        return underNamesLock(() -> {
            String id = newId();
            String name = spec.name() == null ? "vm-" + id.substring(0, 8) : spec.name();
            requireFreeName(name);
            try {
                Files.createDirectories(dir(id));
            } catch (IOException e) {
                throw new SmartVmException(ErrorCode.IO_ERROR, "cannot create a VM directory in " + vmsDir + ": "
                        + e.getMessage(), e);
            }
            VmRecord r = new VmRecord(id, name, spec, VmState.CREATED, spec.acceleration(), -1, null,
                    java.time.Instant.now(), ownerPid, ownerStartedAt, null, null, null, null);
            save(r);
            return r;
        });
    }

    private String newId() {
        byte[] b = new byte[6];
        String id;
        do {
            RANDOM.nextBytes(b);
            id = HexFormat.of().formatHex(b);
        } while (Files.exists(dir(id)));
        return id;
    }

    /**
     * Writes the record {@code latest} gives at the moment of writing, as the VM's one writer:
     * records never land out of order, and a removed VM's is not written again.
     */
    public void saveLatest(String id, Supplier<VmRecord> latest) {
        asWriter(id, () -> {
            VmRecord r = latest.get();
            if (r.state() != VmState.REMOVED) {
                save(r);
            }
        });
    }

    /** Runs {@code action} as the VM's one writer: no record of it is written meanwhile. */
    public void asWriter(String id, Runnable action) {
        ReentrantLock writer = writers.computeIfAbsent(id, k -> new ReentrantLock());
        writer.lock();
        try {
            action.run();
        } finally {
            writer.unlock();
        }
    }

    public void save(VmRecord r) {
        Path file = dir(r.id()).resolve("vm.json");
        try {
            AtomicFiles.replace(file, Json.MAPPER.writeValueAsBytes(r));
        } catch (java.nio.file.NoSuchFileException e) {
            // removed by another process (smartvm rm) while this one still held the VM
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public Optional<VmRecord> load(String id) {
        Path file = dir(id).resolve("vm.json");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Json.read(file, VmRecord.class));
        } catch (SmartVmException e) {
            return Optional.empty();
        }
    }

    public List<VmRecord> all() {
        List<VmRecord> out = new ArrayList<>();
        if (!Files.isDirectory(vmsDir)) {
            return out;
        }
        try (Stream<Path> dirs = Files.list(vmsDir)) {
            dirs.filter(Files::isDirectory).forEach(d -> load(d.getFileName().toString()).ifPresent(out::add));
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot list " + vmsDir + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.comparing(VmRecord::createdAt));
        return out;
    }

    /** By id or by name. */
    public Optional<VmRecord> find(String idOrName) {
        return all().stream().filter(r -> r.id().equals(idOrName) || r.name().equals(idOrName)).findFirst();
    }

    /**
     * Deletes the VM's directory. A VMM that is still going down may write one last file while
     * the tree is walked, so a directory found non-empty is walked again (three times at most).
     */
    public void delete(String id) {
        Path dir = dir(id);
        for (int attempt = 1; ; attempt++) {
            try {
                FileTrees.delete(dir);
                return;
            } catch (java.nio.file.DirectoryNotEmptyException e) {
                if (attempt == 3) {
                    throw new SmartVmException(ErrorCode.IO_ERROR, "cannot remove " + dir + ": files keep appearing in it: "
                            + String.join(", ", dir.toFile().list() == null ? new String[0] : dir.toFile().list()), e);
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            } catch (IOException e) {
                throw new SmartVmException(ErrorCode.IO_ERROR, "cannot remove " + dir + ": " + e.getMessage(), e);
            }
        }
    }
}

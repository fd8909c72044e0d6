package dev.smartvm.internal.smolvm;

import dev.smartvm.ErrorCode;
import dev.smartvm.Leftover;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.io.Sweep;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Images packed on the host ({@code smolvm pack create}) for machines without a network: smolvm
 * pulls an image from inside the machine, which needs egress, so such a machine is made from a
 * pack instead ({@code machine create --from}). One pack per image reference, in
 * {@code <home>/smolvm-packs/<hash>/}, made whole or not at all (packed into a hidden
 * directory that then takes its name); packs are a cache, reused by every machine of the image.
 */
final class SmolvmPacks {
    static final String DIR = "smolvm-packs";
    private static final String PARTIAL = ".partial-";

    private SmolvmPacks() {
    }

    /** {@code machine} made from its image's pack, which is packed now if it is not yet. */
    static MachineSpec packed(SmolvmCli cli, MachineSpec machine, Path vmDir) {
        Path packs = vmDir.toAbsolutePath().getParent().resolveSibling(DIR);
        Path dir = packs.resolve(Hashing.sha256(machine.image().getBytes(StandardCharsets.UTF_8)).substring(0, 16));
        Path sidecar = dir.resolve("image.smolmachine");
        if (!Files.isRegularFile(sidecar)) {
            pack(cli, machine.image(), packs, dir);
        }
        return new MachineSpec(machine.name(), null, sidecar.toString(), machine.cpus(), machine.memoryMib(), false,
                machine.allowCidrs(), machine.allowHosts(), machine.env(), null, machine.volumes(), machine.ports(), machine.command());
    }

    private static void pack(SmolvmCli cli, String image, Path packs, Path dir) {
        Path partial = null;
        Path lock = null;
        LockFile making = null;
        try {
            Files.createDirectories(packs);
            String name = PARTIAL + java.util.UUID.randomUUID();
            lock = packs.resolve(name + ".lock");
            making = LockFile.acquire(lock); // held before the directory exists: gc leaves it alone
            partial = Files.createDirectory(packs.resolve(name));
            cli.packCreate(image, partial.resolve("image"));
            try {
                Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                // another start packed the same image meanwhile: its pack is as good
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot keep the smolvm pack of " + image + " in " + packs + ": "
                    + e.getMessage(), e);
        } finally {
            if (partial != null) {
                FileTrees.deleteQuietly(partial);
            }
            if (making != null) {
                making.close();
                deleteQuietly(lock);
            }
        }
    }

    private static Path lockOf(Path partial) {
        return partial.resolveSibling(partial.getFileName() + ".lock");
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // gc finds it
        }
    }

    /** Packs half made by a process that died (their lock free), for {@code gc}; {@code packs} is the home's {@value #DIR}. */
    static void sweepPartials(Path packs, Sweep sweep) {
        List<Path> partials;
        try (Stream<Path> entries = Files.isDirectory(packs) ? Files.list(packs) : Stream.empty()) {
            partials = entries.filter(p -> p.getFileName().toString().startsWith(PARTIAL)).toList();
        } catch (IOException e) {
            return;
        }
        for (Path p : partials) {
            if (!Files.isDirectory(p)) {
                Path made = p.resolveSibling(p.getFileName().toString().replaceFirst("\\.lock$", ""));
                if (p.getFileName().toString().endsWith(".lock") && !Files.isDirectory(made) && LockFile.isFree(p)) {
                    sweep.found(Leftover.Kind.LOCK, p.toString(), "the lock of a smolvm pack no longer being made",
                            () -> deleteQuietly(p));
                }
                continue;
            }
            Optional<LockFile> free = LockFile.tryAcquire(lockOf(p));
            if (free.isPresent()) {
                try (LockFile held = free.get()) {
                    sweep.found(Leftover.Kind.PARTIAL_SAVE, p.toString(), "a smolvm pack whose maker died before it was made", () -> {
                        FileTrees.deleteQuietly(p);
                        deleteQuietly(lockOf(p));
                    });
                }
            }
        }
    }
}

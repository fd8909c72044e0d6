package dev.smartvm.internal.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Deleting directory trees. */
public final class FileTrees {
    private FileTrees() {
    }

    /**
     * Deletes {@code root} and everything below it. A tree that is already gone, or that another
     * process removes meanwhile, is fine; any other failure is thrown (a
     * {@link java.nio.file.DirectoryNotEmptyException} when files appear while it is walked).
     */
    public static void delete(Path root) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        } catch (NoSuchFileException e) {
            return;
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof NoSuchFileException) {
                return;
            }
            throw e.getCause();
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    /** {@link #delete}, ignoring failures: for temporary trees whose leftovers are harmless. */
    /**
     * A copy of {@code file} at {@code target} that shares nothing with it: sparse, and a reflink
     * where the file system can make one (a VM's private disk, a saved disk).
     *
     * @throws dev.smartvm.SmartVmException IO_ERROR with cp's message
     */
    public static Path sparseCopy(Path file, Path target) {
        CommandRunner.system().run(List.of("cp", "--sparse=always", "--reflink=auto", file.toString(), target.toString()),
                null, java.time.Duration.ofHours(1)).orThrow(dev.smartvm.ErrorCode.IO_ERROR);
        return target;
    }

    /** The bytes of every regular file under {@code root} (their apparent sizes); 0 when it cannot be read. */
    public static long size(Path root) {
        try (java.util.stream.Stream<Path> all = Files.walk(root)) {
            return all.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            return 0;
        }
    }

    public static void deleteQuietly(Path root) {
        try {
            delete(root);
        } catch (IOException e) {
            // best effort
        }
    }
}

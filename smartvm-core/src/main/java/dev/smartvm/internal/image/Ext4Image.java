package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.CommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * A raw ext4 file system made from a directory tree by {@code mkfs.ext4 -d}, which keeps modes,
 * owners, symlinks and hard links. Sized to the tree with room for metadata and some free space.
 */
public final class Ext4Image {
    static final Path MKFS = Path.of("/usr/sbin/mkfs.ext4");
    private static final long MIB = 1 << 20;

    private Ext4Image() {
    }

    /** Writes {@code image} from {@code tree} and returns it. */
    public static Path make(Path tree, Path image, CommandRunner runner) {
        if (!Files.isExecutable(MKFS)) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING,
                    "mkfs.ext4 is not installed; install it with: apt-get install e2fsprogs");
        }
        long bytes = 0;
        long inodes = 0;
        try (Stream<Path> all = Files.walk(tree)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                inodes++;
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    bytes += (Files.size(p) + 4095) / 4096 * 4096;
                }
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "cannot measure " + tree + ": " + e.getMessage(), e);
        }
        long size = Math.max(64 * MIB, (long) ((bytes + inodes * 4096) * 1.25) + 32 * MIB);
        size = (size + MIB - 1) / MIB * MIB;
        runner.run(List.of(MKFS.toString(), "-q", "-F", "-L", "smartvm-root", "-N", Long.toString(inodes + 4096), "-d",
                tree.toString(), image.toString(), (size / 1024) + "k"), null, Duration.ofMinutes(10))
                .orThrow(ErrorCode.IMAGE_BUILD_FAILED);
        return image;
    }
}

package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The filesystem a whole-disk image holds, told by its superblock's magic number as the kernel's
 * own probes tell it: the type SmartVM's agent mounts a root drive it did not make with.
 */
public final class DiskFilesystem {
    /** Read from the start of a disk: btrfs's superblock, the farthest, is at 64 KiB. */
    private static final int HEAD = 0x10048;

    private DiskFilesystem() {
    }

    /**
     * The mount type of {@code disk}'s filesystem ({@code ext4} for ext2, ext3 and ext4, which the
     * ext4 driver mounts).
     *
     * @param what how the disk is named in an error, e.g. "the root drive 'rootfs'"
     * @throws SmartVmException INVALID_ARGUMENT when the disk cannot be read, is partitioned or
     *     holds no filesystem SmartVM knows
     */
    public static String of(Path disk, String what) {
        ByteBuffer head = ByteBuffer.allocate(HEAD).order(ByteOrder.LITTLE_ENDIAN);
        if (!Files.isRegularFile(disk) && !isBlockDevice(disk)) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, what + ": " + disk + " does not exist or is not a file");
        }
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
            while (head.hasRemaining() && ch.read(head) > 0) {
                // read on
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, what + ": cannot read " + disk + ": " + e.getMessage(), e);
        }
        int n = head.position();
        String type = type(head, n);
        if (type != null) {
            return type;
        }
        boolean partitioned = n >= 520 && (ascii(head, 512, 8).equals("EFI PART") || (head.get(510) == 0x55 && head.get(511) == (byte) 0xAA));
        throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, what + ": " + disk + (partitioned
                ? " is a partitioned disk; SmartVM's agent mounts a root drive whole: give the filesystem image of the root partition"
                : " holds no filesystem SmartVM can tell (ext2/3/4, xfs, btrfs, squashfs, erofs, f2fs)"));
    }

    private static String type(ByteBuffer b, int n) {
        if (n >= 1082 && (b.getShort(1080) & 0xffff) == 0xEF53) {
            return "ext4";
        }
        if (n >= 4 && ascii(b, 0, 4).equals("XFSB")) {
            return "xfs";
        }
        if (n >= 4 && ascii(b, 0, 4).equals("hsqs")) {
            return "squashfs";
        }
        if (n >= 1028 && b.getInt(1024) == 0xE0F5E1E2) {
            return "erofs";
        }
        if (n >= 1028 && b.getInt(1024) == 0xF2F52010) {
            return "f2fs";
        }
        if (n >= 0x10048 && ascii(b, 0x10040, 8).equals("_BHRfS_M")) {
            return "btrfs";
        }
        return null;
    }

    private static String ascii(ByteBuffer b, int at, int length) {
        byte[] out = new byte[length];
        b.get(at, out);
        return new String(out, StandardCharsets.ISO_8859_1);
    }

    private static boolean isBlockDevice(Path p) {
        try {
            return Files.exists(p) && !Files.isDirectory(p) && Files.readAttributes(p, "unix:mode").get("mode") instanceof Integer m
                    && (m & 0170000) == 0060000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}

package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.lz4.BlockLZ4CompressorInputStream;

/**
 * The uncompressed ELF kernel inside an x86 bzImage. Firecracker boots only ELF {@code vmlinux}
 * images on x86_64, while distributions ship bzImages: the boot protocol header says where the
 * compressed payload is, and its magic says how it is compressed (lz4 legacy frames, as Debian's
 * kernels use, gzip or bzip2).
 */
public final class Vmlinux {
    private static final byte[] ELF = {0x7f, 'E', 'L', 'F'};
    private static final int LZ4_LEGACY_MAGIC = 0x184C2102;

    private Vmlinux() {
    }

    public static boolean isElf(Path kernel) {
        try (InputStream in = Files.newInputStream(kernel)) {
            byte[] head = in.readNBytes(4);
            return java.util.Arrays.equals(head, ELF);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Returns {@code kernel} itself when it is already ELF; otherwise the vmlinux extracted into
     * {@code target} (written once, atomically, and reused while it is newer than the kernel).
     */
    public static Path of(Path kernel, Path target) {
        if (isElf(kernel)) {
            return kernel;
        }
        try {
            if (Files.isRegularFile(target) && isElf(target)
                    && !Files.getLastModifiedTime(target).toInstant().isBefore(Files.getLastModifiedTime(kernel).toInstant())) {
                return target;
            }
            byte[] vmlinux = extract(Files.readAllBytes(kernel), kernel);
            Path tmp = Files.createTempFile(target.getParent(), ".vmlinux-", ".tmp");
            try {
                Files.write(tmp, vmlinux);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "cannot extract vmlinux from " + kernel + ": " + e.getMessage(), e);
        }
    }

    /** The ELF image inside a bzImage's bytes. */
    public static byte[] extract(byte[] bz, Path name) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bz).order(ByteOrder.LITTLE_ENDIAN);
        if (bz.length < 0x260 || b.getInt(0x202) != 0x53726448) { // "HdrS"
            throw invalid(name, "neither an ELF vmlinux nor an x86 bzImage");
        }
        if ((b.getShort(0x206) & 0xffff) < 0x208) {
            throw invalid(name, "its boot protocol is older than 2.08 and does not say where the payload is");
        }
        int setupSectors = bz[0x1f1] == 0 ? 4 : bz[0x1f1] & 0xff;
        long start = (setupSectors + 1L) * 512 + Integer.toUnsignedLong(b.getInt(0x248));
        long length = Integer.toUnsignedLong(b.getInt(0x24c));
        if (start + length > bz.length || length < 8) {
            throw invalid(name, "its payload lies outside the file");
        }
        byte[] payload = java.util.Arrays.copyOfRange(bz, (int) start, (int) (start + length));
        byte[] out = decompress(payload, name);
        if (out.length < 4 || !java.util.Arrays.equals(java.util.Arrays.copyOf(out, 4), ELF)) {
            throw invalid(name, "its payload did not decompress to an ELF image");
        }
        return out;
    }

    private static byte[] decompress(byte[] p, Path name) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) == LZ4_LEGACY_MAGIC) {
            return lz4Legacy(b, p.length);
        }
        if ((p[0] & 0xff) == 0x1f && (p[1] & 0xff) == 0x8b) {
            return readAll(new GzipCompressorInputStream(new ByteArrayInputStream(p)));
        }
        if (p[0] == 'B' && p[1] == 'Z' && p[2] == 'h') {
            return readAll(new BZip2CompressorInputStream(new ByteArrayInputStream(p)));
        }
        String magic = String.format("%02x%02x%02x%02x", p[0], p[1], p[2], p[3]);
        throw invalid(name, "its payload is compressed in a format SmartVM does not unpack (magic " + magic
                + "; lz4, gzip and bzip2 are supported): give Firecracker an uncompressed vmlinux instead");
    }

    /**
     * The kernel's lz4 legacy stream: the magic, then blocks each prefixed by its compressed
     * size; the build appends the uncompressed size as a 4-byte trailer.
     */
    private static byte[] lz4Legacy(ByteBuffer b, int length) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(length * 3);
        int pos = 4;
        while (pos + 4 <= length) {
            int size = b.getInt(pos);
            if (size == LZ4_LEGACY_MAGIC) {
                pos += 4;
                continue;
            }
            if (size <= 0 || pos + 4 + (long) size > length) {
                break; // the trailer, or the padding after the last block
            }
            try (InputStream block = new BlockLZ4CompressorInputStream(new ByteArrayInputStream(b.array(), pos + 4, size))) {
                block.transferTo(out);
            }
            pos += 4 + size;
        }
        return out.toByteArray();
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    private static SmartVmException invalid(Path name, String why) {
        return new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "cannot make a vmlinux of " + name + ": " + why);
    }
}

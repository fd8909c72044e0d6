package dev.smartvm.internal.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.lz4.BlockLZ4CompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmlinuxTest {
    @TempDir
    Path dir;

    /** An ELF-looking image: the magic, then compressible but not trivial bytes. */
    private static byte[] elf(int size) {
        byte[] b = new byte[size];
        Random r = new Random(7);
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (r.nextInt(16) + 'a');
        }
        b[0] = 0x7f;
        b[1] = 'E';
        b[2] = 'L';
        b[3] = 'F';
        return b;
    }

    private static byte[] lz4Block(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream lz = new BlockLZ4CompressorOutputStream(out)) {
            lz.write(data);
        }
        return out.toByteArray();
    }

    /** The kernel's lz4 legacy framing: magic, size-prefixed blocks, the uncompressed size as trailer. */
    private static byte[] lz4Legacy(byte[] data, int blockSize) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(le(0x184C2102));
        for (int off = 0; off < data.length; off += blockSize) {
            byte[] block = lz4Block(Arrays.copyOfRange(data, off, Math.min(data.length, off + blockSize)));
            out.write(le(block.length));
            out.write(block);
        }
        out.write(le(data.length));
        return out.toByteArray();
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gz = new GzipCompressorOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    /** A bzImage the way the x86 boot protocol lays it out: 1 setup sector after the boot sector. */
    private static byte[] bzImage(byte[] payload) {
        int payloadOffset = 0x100;
        byte[] image = new byte[1024 + payloadOffset + payload.length + 64];
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        image[0x1f1] = 1;
        b.putInt(0x202, 0x53726448);
        b.putShort(0x206, (short) 0x020f);
        b.putInt(0x248, payloadOffset);
        b.putInt(0x24c, payload.length);
        System.arraycopy(payload, 0, image, 1024 + payloadOffset, payload.length);
        return image;
    }

    @Test
    void unpacksTheKernelsLz4LegacyFramesAcrossBlocks() throws IOException {
        byte[] elf = elf(40_000);
        assertThat(Vmlinux.extract(bzImage(lz4Legacy(elf, 16 * 1024)), Path.of("k"))).isEqualTo(elf);
    }

    @Test
    void unpacksGzip() throws IOException {
        byte[] elf = elf(50_000);
        assertThat(Vmlinux.extract(bzImage(gzip(elf)), Path.of("k"))).isEqualTo(elf);
    }

    @Test
    void anElfKernelIsUsedAsItIsAndAnExtractionIsCached() throws IOException {
        Path elf = Files.write(dir.resolve("vmlinux"), elf(1000));
        assertThat(Vmlinux.of(elf, dir.resolve("unused"))).isEqualTo(elf);
        assertThat(dir.resolve("unused")).doesNotExist();

        byte[] inner = elf(10_000);
        Path bz = Files.write(dir.resolve("vmlinuz"), bzImage(lz4Legacy(inner, 4096)));
        Path out = Vmlinux.of(bz, dir.resolve("vmlinux.extracted"));
        assertThat(out).hasBinaryContent(inner);
        Files.setLastModifiedTime(out, Files.getLastModifiedTime(bz));
        Files.write(bz, new byte[] {1}); // would fail if extracted again
        Files.setLastModifiedTime(bz, Files.getLastModifiedTime(out));
        assertThat(Vmlinux.of(bz, dir.resolve("vmlinux.extracted"))).hasBinaryContent(inner);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("vmlinux", "vmlinuz",
                    "vmlinux.extracted");
        }
    }

    @Test
    void refusesWhatItCannotUnpackWithoutLeavingAFile() throws IOException {
        Path notKernel = Files.writeString(dir.resolve("notes.txt"), "hello ".repeat(200));
        assertThatThrownBy(() -> Vmlinux.of(notKernel, dir.resolve("out")))
                .isInstanceOf(SmartVmException.class)
                .hasMessageContaining("neither an ELF vmlinux nor an x86 bzImage")
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.IMAGE_BUILD_FAILED);
        byte[] xzLike = new byte[64];
        xzLike[0] = (byte) 0xfd;
        xzLike[1] = '7';
        xzLike[2] = 'z';
        xzLike[3] = 'X';
        Path xz = Files.write(dir.resolve("xz"), bzImage(xzLike));
        assertThatThrownBy(() -> Vmlinux.of(xz, dir.resolve("out")))
                .hasMessageContaining("magic fd377a58").hasMessageContaining("uncompressed vmlinux");
        Path notElf = Files.write(dir.resolve("gz"), bzImage(gzip("not an elf".getBytes())));
        assertThatThrownBy(() -> Vmlinux.of(notElf, dir.resolve("out"))).hasMessageContaining("did not decompress to an ELF");
        assertThat(dir.resolve("out")).doesNotExist();
        try (var files = Files.list(dir)) {
            assertThat(files.filter(p -> p.getFileName().toString().startsWith(".vmlinux"))).isEmpty();
        }
    }
}

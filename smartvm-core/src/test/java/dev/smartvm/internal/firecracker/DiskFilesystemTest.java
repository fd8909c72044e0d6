package dev.smartvm.internal.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.internal.image.DiskFilesystem;
import dev.smartvm.internal.image.TestImages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The filesystem of a config file's root drive, told from the disk as the kernel tells it. */
class DiskFilesystemTest {
    @TempDir
    Path dir;

    private Path disk(String name, int at, byte[] magic) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(0x11000).order(ByteOrder.LITTLE_ENDIAN);
        b.put(at, magic);
        return Files.write(dir.resolve(name), b.array());
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    @Test
    void eachFilesystemIsToldByItsSuperblock() throws Exception {
        assertThat(DiskFilesystem.of(TestImages.ext4(dir.resolve("root.ext4")), "r")).isEqualTo("ext4");
        assertThat(DiskFilesystem.of(disk("x", 0, "XFSB".getBytes(StandardCharsets.US_ASCII)), "r")).isEqualTo("xfs");
        assertThat(DiskFilesystem.of(disk("s", 0, "hsqs".getBytes(StandardCharsets.US_ASCII)), "r")).isEqualTo("squashfs");
        assertThat(DiskFilesystem.of(disk("e", 1024, le32(0xE0F5E1E2)), "r")).isEqualTo("erofs");
        assertThat(DiskFilesystem.of(disk("f", 1024, le32(0xF2F52010)), "r")).isEqualTo("f2fs");
        assertThat(DiskFilesystem.of(disk("b", 0x10040, "_BHRfS_M".getBytes(StandardCharsets.US_ASCII)), "r")).isEqualTo("btrfs");
    }

    @Test
    void aDiskWithoutAFilesystemIsRefusedSayingWhatItIs() throws Exception {
        assertThatThrownBy(() -> DiskFilesystem.of(disk("mbr", 510, new byte[] {0x55, (byte) 0xAA}), "the root drive 'r'"))
                .hasMessageContaining("the root drive 'r'").hasMessageContaining("is a partitioned disk");
        assertThatThrownBy(() -> DiskFilesystem.of(disk("zero", 0, new byte[1]), "d")).hasMessageContaining("holds no filesystem");
        assertThatThrownBy(() -> DiskFilesystem.of(Files.write(dir.resolve("tiny"), new byte[10]), "d"))
                .hasMessageContaining("holds no filesystem");
        assertThatThrownBy(() -> DiskFilesystem.of(dir.resolve("missing"), "d")).hasMessageContaining("does not exist");
    }
}

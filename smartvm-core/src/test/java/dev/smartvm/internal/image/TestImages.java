package dev.smartvm.internal.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Image directories for tests that never boot a real kernel (the fake Firecracker, plans, boot failures). */
public final class TestImages {
    private TestImages() {
    }

    /** An ELF header: x86-64 when {@code x86}, else with no machine, which no VMM can boot. */
    public static byte[] elfKernel(boolean x86) {
        byte[] elf = new byte[4096];
        elf[0] = 0x7f;
        elf[1] = 'E';
        elf[2] = 'L';
        elf[3] = 'F';
        if (x86) {
            elf[4] = 2; // 64-bit
            elf[18] = 62; // EM_X86_64
        }
        return elf;
    }

    /** An image directory, as {@code --image DIR} takes it, with that kernel and an empty initramfs. */
    public static Path directory(Path dir, boolean x86) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("vmlinuz"), elfKernel(x86));
        Files.write(dir.resolve("initramfs.cpio"), new byte[512]);
        Files.writeString(dir.resolve("image.json"), "{\"id\":\"test-" + (x86 ? "x86" : "none") + "\",\"kernelPackage\":\"none\","
                + "\"kernelVersion\":\"0\",\"busyboxVersion\":\"0\",\"agentSha256\":\"0\",\"modules\":[]}");
        return dir;
    }
}

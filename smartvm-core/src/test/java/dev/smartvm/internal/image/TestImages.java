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

    /** A real ext4 filesystem image of 4 MiB, made by mkfs.ext4 (e2fsprogs, which the project's scripts install). */
    public static Path ext4(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/usr/sbin/mkfs.ext4", "-q", "-F", file.toString(), "4M").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("mkfs.ext4 failed: " + out);
        }
        return file;
    }
}

package dev.smartvm;

import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.io.CommandRunner;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;
import org.junit.jupiter.api.Assumptions;

/** Small ext4 root disks for real-VM tests: the default image's busybox, a few applets, and /etc/marker. */
final class TestRootDisks {
    private static final Path MKFS = Path.of("/usr/sbin/mkfs.ext4");

    private TestRootDisks() {
    }

    /** The default image's static busybox. */
    static byte[] busybox(ImageBundle base) throws IOException {
        try (CpioArchiveInputStream cpio = new CpioArchiveInputStream(Files.newInputStream(base.initrd()))) {
            CpioArchiveEntry e;
            while ((e = cpio.getNextEntry()) != null) {
                if (e.getName().equals("bin/busybox")) {
                    return ((InputStream) cpio).readAllBytes();
                }
            }
        }
        throw new IOException("the default image has no bin/busybox");
    }

    /**
     * An image directory under {@code work}: the default kernel and initramfs, and a root disk
     * ({@link #build}) whose {@code /etc/marker} holds {@code marker}.
     */
    static Path image(ImageBundle base, Path work, String marker, String id) throws IOException {
        Path image = Files.createDirectories(work.resolve("image"));
        Files.copy(base.kernel(), image.resolve("vmlinuz"));
        Files.copy(base.initrd(), image.resolve("initramfs.cpio"));
        build(base, work, marker, image.resolve("root.ext4"));
        Files.writeString(image.resolve("image.json"), """
                {"id":"%s","kernelPackage":"linux-image","kernelVersion":"test","busyboxVersion":"test",
                 "agentSha256":"test","modules":[],"createdAt":"2026-01-01T00:00:00Z","rootDisk":"root.ext4"}""".formatted(id));
        return image;
    }

    /** Writes {@code disk} (32 MiB ext4) built from a tree under {@code work}; skips the test without mkfs.ext4. */
    static Path build(ImageBundle base, Path work, String marker, Path disk) throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(MKFS), "mkfs.ext4 is not installed (bin/test installs e2fsprogs)");
        Path tree = work.resolve("rootfs");
        Path bin = Files.createDirectories(tree.resolve("bin"));
        Path busybox = Files.write(bin.resolve("busybox"), busybox(base));
        Files.setPosixFilePermissions(busybox, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String applet : List.of("sh", "cat", "ls", "mount", "echo")) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        for (String d : List.of("etc", "proc", "sys", "dev", "tmp", "run")) { // as every real root filesystem has
            Files.createDirectories(tree.resolve(d));
        }
        Files.writeString(tree.resolve("etc/marker"), marker);
        CommandRunner.system().run(List.of(MKFS.toString(), "-q", "-F", "-d", tree.toString(), disk.toString(), "32M"), null,
                Duration.ofSeconds(60)).orThrow(ErrorCode.IMAGE_BUILD_FAILED);
        return disk;
    }
}

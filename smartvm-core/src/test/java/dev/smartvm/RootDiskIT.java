package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.image.ImageBundle;
import dev.smartvm.internal.CommandRunner;
import dev.smartvm.internal.Hashing;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An image with a root disk: the agent mounts it and every command and copy happens inside it. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RootDiskIT extends RealVmTest {
    @TempDir
    Path dir;

    @Test
    void commandsRunInsideTheRootDisk() throws Exception {
        Path mkfs = Path.of("/usr/sbin/mkfs.ext4");
        Assumptions.assumeTrue(Files.isExecutable(mkfs), "mkfs.ext4 is not installed (bin/test installs e2fsprogs)");
        ImageBundle base = svm.images().resolve("default");

        Path rootfs = Files.createDirectories(dir.resolve("rootfs/bin"));
        Path busybox = rootfs.resolve("busybox");
        try (CpioArchiveInputStream cpio = new CpioArchiveInputStream(Files.newInputStream(base.initrd()))) {
            CpioArchiveEntry e;
            while ((e = cpio.getNextEntry()) != null) {
                if (e.getName().equals("bin/busybox")) {
                    Files.copy((InputStream) cpio, busybox);
                }
            }
        }
        Files.setPosixFilePermissions(busybox, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String applet : List.of("sh", "cat", "ls", "mount", "echo")) {
            Files.createSymbolicLink(rootfs.resolve(applet), Path.of("busybox"));
        }
        Files.createDirectories(dir.resolve("rootfs/etc"));
        Files.writeString(dir.resolve("rootfs/etc/marker"), "on the root disk\n");

        Path image = Files.createDirectories(dir.resolve("image"));
        Files.copy(base.kernel(), image.resolve("vmlinuz"));
        Files.copy(base.initrd(), image.resolve("initramfs.cpio"));
        CommandRunner.system().run(List.of(mkfs.toString(), "-q", "-F", "-d", dir.resolve("rootfs").toString(),
                image.resolve("root.ext4").toString(), "32M"), null, Duration.ofSeconds(60)).orThrow(ErrorCode.IMAGE_BUILD_FAILED);
        Files.writeString(image.resolve("image.json"), """
                {"id":"rootdisk-test","kernelPackage":"linux-image","kernelVersion":"test","busyboxVersion":"test",
                 "agentSha256":"test","modules":[],"createdAt":"2026-01-01T00:00:00Z","rootDisk":"root.ext4"}""");
        String diskBefore = Hashing.sha256(image.resolve("root.ext4"));

        try (MicroVm vm = svm.start(VmSpec.builder().image(image.toString()).build())) {
            assertThat(vm.exec("cat", "/etc/marker").stdout()).isEqualTo("on the root disk\n");
            assertThat(vm.exec("ls", "/lib/modules").exitCode()).as("the initramfs is no longer visible").isNotZero();
            assertThat(vm.exec("sh", "-c", "mount").stdout()).contains("/dev/vda on / type ext4");
            vm.exec("sh", "-c", "echo written > /etc/new");
            Path back = dir.resolve("new");
            vm.copyFrom("/etc/new", back);
            assertThat(back).hasContent("written");
            vm.copyTo(dir.resolve("rootfs/etc/marker"), "/etc/copied");
            assertThat(vm.exec("cat", "/etc/copied").stdout()).isEqualTo("on the root disk\n");
        }
        assertThat(Hashing.sha256(image.resolve("root.ext4"))).as("the image's disk is never written").isEqualTo(diskBefore);
    }

    @Test
    void anImageWhoseRootDiskIsMissingIsRefused() throws Exception {
        Path image = Files.createDirectories(dir.resolve("noroot"));
        ImageBundle base = svm.images().resolve("default");
        Files.copy(base.kernel(), image.resolve("vmlinuz"));
        Files.copy(base.initrd(), image.resolve("initramfs.cpio"));
        Files.writeString(image.resolve("image.json"), """
                {"id":"x","kernelPackage":"k","kernelVersion":"0","busyboxVersion":"0","agentSha256":"0","modules":[],
                 "createdAt":"2026-01-01T00:00:00Z","rootDisk":"../etc/passwd"}""");
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(
                () -> svm.start(VmSpec.builder().image(image.toString()).build()));
        assertThat(t).isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IMAGE_NOT_FOUND))
                .hasMessageContaining("../etc/passwd");
        assertThat(svm.count()).isZero();
    }
}

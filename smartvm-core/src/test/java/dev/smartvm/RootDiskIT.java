package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.io.Hashing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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
        ImageBundle base = Internals.images(svm).resolve("default");
        Path image = TestRootDisks.image(base, dir, "on the root disk\n", "rootdisk-test");
        String diskBefore = Hashing.sha256(image.resolve("root.ext4"));

        try (MicroVm vm = svm.start(VmSpec.builder().image(image.toString()).build())) {
            assertThat(vm.exec("cat", "/etc/marker").stdout()).isEqualTo("on the root disk\n");
            assertThat(vm.exec("ls", "/lib/modules").exitCode()).as("the initramfs is no longer visible").isNotZero();
            assertThat(vm.exec("sh", "-c", "mount").stdout()).contains("/dev/vda on / type ext4");
            vm.exec("sh", "-c", "echo written > /etc/new");
            Path back = dir.resolve("new");
            vm.copyFrom("/etc/new", back);
            assertThat(back).hasContent("written");
            vm.copyTo(dir.resolve("rootfs/etc/marker"), "/etc/copied"); // the tree TestRootDisks made
            assertThat(vm.exec("cat", "/etc/copied").stdout()).isEqualTo("on the root disk\n");
        }
        assertThat(Hashing.sha256(image.resolve("root.ext4"))).as("the image's disk is never written").isEqualTo(diskBefore);

        // a created VM keeps its files across stop and start (its own overlay), until it is removed
        Path overlay;
        try (MicroVm vm = svm.create(VmSpec.builder().image(image.toString()).build())) {
            vm.start();
            assertThat(vm.exec("sh", "-c", "echo kept > /etc/kept && sync").exitCode()).isZero();
            overlay = vm.info().stateDir().resolve("root.qcow2");
            assertThat(overlay).exists();
            vm.stop();
            vm.start();
            assertThat(vm.exec("cat", "/etc/kept").stdout()).as("written before the stop").isEqualTo("kept\n");
        }
        assertThat(overlay).as("removed with the VM").doesNotExist();
        assertThat(Hashing.sha256(image.resolve("root.ext4"))).as("the image's disk is still unwritten").isEqualTo(diskBefore);
        try (MicroVm other = svm.start(VmSpec.builder().image(image.toString()).build())) {
            assertThat(other.exec("cat", "/etc/kept").exitCode()).as("another VM of the image sees none of it").isNotZero();
        }
    }

    @Test
    void anImageWhoseRootDiskIsMissingIsRefused() throws Exception {
        Path image = Files.createDirectories(dir.resolve("noroot"));
        ImageBundle base = Internals.images(svm).resolve("default");
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

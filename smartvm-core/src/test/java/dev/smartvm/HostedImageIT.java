package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.internal.image.BaseImageBundle;
import dev.smartvm.internal.image.BaseImageManager;
import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.io.Hashing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --image hosted:<manifest>}: a base image's root filesystem, verified and cached, is where commands run. */
class HostedImageIT extends RealVmTest {
    @TempDir
    Path dir;

    @Test
    void commandsRunInTheHostedRootFilesystem() throws IOException {
        ImageBundle base = Internals.images(svm).resolve("default");
        Path src = Files.createDirectories(dir.resolve("hosted"));
        Path rootfs = TestRootDisks.build(base, dir, "from a hosted manifest\n", src.resolve("rootfs.ext4"));
        Files.copy(base.kernel(), src.resolve("vmlinuz"));
        Path manifest = Files.writeString(src.resolve("manifest.json"), """
                {"schemaVersion": 1, "name": "busybox-test", "arch": "x86_64", "readOnly": true,
                 "versions": {"rootfs": "test"},
                 "kernel": {"path": "vmlinuz", "fileName": "vmlinuz"},
                 "rootfs": {"path": "rootfs.ext4", "sha256": "%s", "sizeBytes": %d, "fileName": "rootfs.ext4"}}
                """.formatted(Hashing.sha256(rootfs), Files.size(rootfs)));
        Path images = Files.createDirectories(dir.resolve("images")); // its base images under it too: one root
        Path builtDefault = base.kernel().getParent();
        Files.createSymbolicLink(images.resolve(builtDefault.getFileName()), builtDefault); // not built again
        try (SmartVm hosted = SmartVm.builder().home(home.resolve("hosted-home")).imagesDir(images).build();
                MicroVm vm = hosted.start(VmSpec.builder().image("hosted:" + manifest).build())) {
            assertThat(vm.exec("cat", "/etc/marker").stdout()).isEqualTo("from a hosted manifest\n");
            assertThat(vm.exec("sh", "-c", "mount").stdout()).contains("/dev/vda on / type ext4 (ro");
            assertThat(vm.exec("sh", "-c", "echo x > /etc/new").exitCode()).as("the manifest asks for read-only").isNotZero();
        }
        List<BaseImageBundle> cached = new BaseImageManager(images.resolve("base"), 2, "x86_64", s -> { }, Clock.systemUTC())
                .list();
        assertThat(cached).singleElement().satisfies(b -> {
            assertThat(b.bundleId()).startsWith("busybox-test-");
            assertThat(b.readOnly()).isTrue();
            assertThat(b.rootfsPath()).hasSameBinaryContentAs(rootfs);
        });
    }
}

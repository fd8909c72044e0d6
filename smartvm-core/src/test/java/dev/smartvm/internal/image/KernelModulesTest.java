package dev.smartvm.internal.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelModulesTest {
    @TempDir
    Path dir;

    /** A stand-in .ko: the .modinfo strings are NUL-separated, as in a real module. */
    private void module(String path, String depends) throws IOException {
        Path p = dir.resolve(path);
        Files.createDirectories(p.getParent());
        Files.write(p, ("\u007fELF junk\0alias=virtio:d00000003v*\0depends=" + depends + "\0vermagic=6.1\0")
                .getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void ordersDependenciesFirst() throws IOException {
        module("kernel/drivers/virtio/virtio.ko", "");
        module("kernel/drivers/virtio/virtio_ring.ko", "");
        module("kernel/drivers/virtio/virtio_mmio.ko", "virtio,virtio_ring");
        module("kernel/drivers/char/virtio_console.ko", "virtio,virtio_ring");
        module("kernel/drivers/char/hw_random/virtio-rng.ko", "virtio_ring,virtio");
        KernelModules m = KernelModules.index(dir);
        List<String> order = m.loadOrder(List.of("virtio_mmio", "virtio_console", "virtio-rng"));
        assertThat(order).containsExactly("virtio", "virtio_ring", "virtio_mmio", "virtio_console", "virtio_rng");
        assertThat(m.path("virtio_rng").getFileName().toString()).isEqualTo("virtio-rng.ko");
    }

    @Test
    void reportsMissingModulesAndCycles() throws IOException {
        module("a.ko", "b");
        module("b.ko", "a");
        KernelModules m = KernelModules.index(dir);
        assertThatThrownBy(() -> m.loadOrder(List.of("a"))).hasMessageContaining("cycle");
        assertThatThrownBy(() -> m.loadOrder(List.of("zzz"))).hasMessageContaining("no module zzz");
    }

    @Test
    void aModuleWithoutDependsHasNone() throws IOException {
        Path p = dir.resolve("plain.ko");
        Files.write(p, "\0vermagic=6.1\0".getBytes(StandardCharsets.US_ASCII));
        assertThat(KernelModules.dependencies(p)).isEmpty();
    }
}

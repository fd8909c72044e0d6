package dev.smartvm.internal.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.CommandRunner;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OCI layers applied in order, then made into ext4: what images rely on, and what hostile layers try. */
class LayerUnpackerTest {
    @TempDir
    Path dir;
    private Path root;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createDirectories(dir.resolve("root"));
    }

    private void apply(TestLayer l, String name) throws IOException {
        new LayerUnpacker(root).apply(new ByteArrayInputStream(l.bytes()), name);
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    @Test
    void layersStackWithWhiteoutsOpaqueDirectoriesLinksModesAndOwners() throws IOException {
        apply(new TestLayer(true)
                .dir("bin", 0755).file("bin/tool", 04755, "tool v1", 0, 0)
                .dir("etc", 0755).file("etc/keep", "kept").file("etc/gone", "to be whited out")
                .dir("var/cache", 0700).file("var/cache/a", "lower a").file("var/cache/b", "lower b")
                .file("home/app/data", 0600, "secret", 1000, 1000)
                .symlink("bin/t", "tool").symlink("usr/bin/sh", "/bin/tool")
                .hardlink("bin/tool-hard", "bin/tool")
                .file("bin/other", 0750, "other", 0, 0).hardlink("bin/other-hard", "bin/other"), "layer-1");
        apply(new TestLayer(false)
                .file("etc/.wh.gone", "")
                .file("var/cache/.wh..wh..opq", "")
                .file("var/cache/c", "upper c")
                .file("bin/tool", 0755, "tool v2", 0, 0)
                .dir("etc/conf.d", 0750), "layer-2");

        assertThat(root.resolve("etc/keep")).hasContent("kept");
        assertThat(root.resolve("etc/gone")).doesNotExist();
        assertThat(root.resolve("var/cache/a")).doesNotExist();
        assertThat(root.resolve("var/cache/c")).hasContent("upper c");
        assertThat(mode(root.resolve("var/cache"))).isEqualTo(0700);
        assertThat(root.resolve("bin/tool")).hasContent("tool v2");
        assertThat(mode(root.resolve("bin/tool"))).isEqualTo(0755);
        assertThat(root.resolve("bin/tool-hard")).as("a hard link keeps the first layer's file").hasContent("tool v1");
        assertThat(mode(root.resolve("bin/tool-hard"))).isEqualTo(04755);
        assertThat(Files.readSymbolicLink(root.resolve("bin/t"))).isEqualTo(Path.of("tool"));
        assertThat(Files.readSymbolicLink(root.resolve("usr/bin/sh"))).isEqualTo(Path.of("/bin/tool"));
        assertThat(mode(root.resolve("home/app/data"))).isEqualTo(0600);
        assertThat(mode(root.resolve("etc/conf.d"))).isEqualTo(0750);
        boolean asRoot = dev.smartvm.internal.host.HostUser.isRoot();
        if (asRoot) {
            assertThat(Files.getAttribute(root.resolve("home/app/data"), "unix:uid")).isEqualTo(1000);
        }
        assertThat(root.resolve("etc/.wh.gone")).doesNotExist();
        assertThat(root.resolve("var/cache/.wh..wh..opq")).doesNotExist();

        Assumptions.assumeTrue(Files.isExecutable(Ext4Image.MKFS), "mkfs.ext4 is not installed (bin/test installs e2fsprogs)");
        Path image = Ext4Image.make(root, dir.resolve("root.ext4"), CommandRunner.system());
        String tool = CommandRunner.system().run(List.of("/usr/sbin/debugfs", "-R", "stat /bin/tool-hard", image.toString()),
                null, Duration.ofSeconds(30)).stdout();
        assertThat(tool).contains("Mode:  04755").contains("Links: 1"); // layer 2 replaced its other name
        String other = CommandRunner.system().run(List.of("/usr/sbin/debugfs", "-R", "stat /bin/other-hard", image.toString()),
                null, Duration.ofSeconds(30)).stdout();
        assertThat(other).contains("Mode:  0750").contains("Links: 2");
        if (asRoot) {
            String data = CommandRunner.system().run(List.of("/usr/sbin/debugfs", "-R", "stat /home/app/data", image.toString()),
                    null, Duration.ofSeconds(30)).stdout();
            assertThat(data).contains("User:  1000").contains("Group:  1000").contains("Mode:  0600");
        }
    }

    @Test
    void entriesThatEscapeTheRootAreRefused() throws IOException {
        Path outside = Files.writeString(dir.resolve("outside"), "untouched");
        List<TestLayer> hostile = List.of(
                new TestLayer(true).file("../outside", "overwritten"),
                new TestLayer(true).raw("/abs", e -> { }),
                new TestLayer(true).symlink("escape", "../../outside"),
                new TestLayer(true).symlink("lnk", "/").file("lnk/outside", "through a symlink"),
                new TestLayer(true).hardlink("hl", "../outside"),
                new TestLayer(true).file("a/b/../../../outside", "dotdot in the middle"));
        List<String> expected = List.of("climbs out", "absolute name", "points outside the image", "goes through the symlink lnk",
                "climbs out", "climbs out");
        for (int i = 0; i < hostile.size(); i++) {
            TestLayer layer = hostile.get(i);
            String name = "hostile-" + i;
            assertThatThrownBy(() -> apply(layer, name)).isInstanceOf(SmartVmException.class)
                    .hasMessageContaining(name).hasMessageContaining(expected.get(i))
                    .satisfies(t -> assertThat(((SmartVmException) t).code()).isEqualTo(ErrorCode.UNSAFE_PATH));
        }
        assertThat(outside).hasContent("untouched");
    }

    @Test
    void anUnreadableTestLayerSaysWhich() {
        assertThatThrownBy(() -> new LayerUnpacker(root).apply(new ByteArrayInputStream(new byte[] {0x28, (byte) 0xb5, 0x2f,
                (byte) 0xfd, 0}), "sha256:abc")).hasMessageContaining("sha256:abc").hasMessageContaining("zstd");
        assertThatThrownBy(() -> new LayerUnpacker(root).apply(new ByteArrayInputStream(new byte[] {0x1f, (byte) 0x8b, 8, 0, 1}),
                "sha256:def")).hasMessageContaining("cannot unpack layer sha256:def");
    }
}

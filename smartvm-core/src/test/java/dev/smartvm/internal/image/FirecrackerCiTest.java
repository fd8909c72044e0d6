package dev.smartvm.internal.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.StaticHttpServer;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lts and latest presets against a local server answering ListObjectsV2 with XML of the
 * real bucket's shape (namespace, CommonPrefixes, continuation tokens), both directory layouts,
 * and a real squashfs made by mksquashfs.
 */
class FirecrackerCiTest {
    private static final String NS = "http://s3.amazonaws.com/doc/2006-03-01/";

    @TempDir
    Path dir;
    private StaticHttpServer server;
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private byte[] squashfs;

    @BeforeEach
    void setUp() throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mksquashfs")), "squashfs-tools is not installed (bin/test installs it)");
        Assumptions.assumeTrue(Files.isExecutable(Ext4Image.MKFS), "mkfs.ext4 is not installed (bin/test installs e2fsprogs)");
        server = new StaticHttpServer();
        Path tree = Files.createDirectories(dir.resolve("ubuntu/etc"));
        Files.writeString(tree.resolve("os-release"), "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n");
        Files.createDirectories(dir.resolve("ubuntu/usr/bin"));
        Path out = dir.resolve("ubuntu.squashfs");
        CommandRunner.system().run(List.of("/usr/bin/mksquashfs", dir.resolve("ubuntu").toString(), out.toString(), "-quiet",
                "-noappend"), null, Duration.ofSeconds(60)).orThrow(ErrorCode.IMAGE_BUILD_FAILED);
        squashfs = Files.readAllBytes(out);

        page("prefix=firecracker-ci%2F&delimiter=%2F", null, "tok+1/=", List.of("v1.9/", "v1.10/", "20241001-abc1-1/"), List.of());
        page("prefix=firecracker-ci%2F&delimiter=%2F", "tok+1/=", null, List.of("20250102-def2-2/", "20250102-def2-10/", "junk/"),
                List.of());
        build("20250102-def2-10", List.of("vmlinux-6.1.130"));
        build("20250102-def2-2", List.of("vmlinux-5.10.223", "vmlinux-6.1.99", "vmlinux-6.1.102", "vmlinux-6.1.102.config",
                "ubuntu-22.04.squashfs", "ubuntu-24.04.squashfs"));
        build("20241001-abc1-1", List.of("vmlinux-6.1.90", "ubuntu-24.04.squashfs"));
        build("v1.10", List.of("vmlinux-5.10.210", "ubuntu-22.04.squashfs"));
        build("v1.9", List.of("vmlinux-5.10.200", "ubuntu-22.04.squashfs"));
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private void page(String query, String token, String next, List<String> prefixes, List<String[]> contents) {
        StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"" + NS + "\">"
                + "<Name>spec.ccfc.min</Name><Prefix>firecracker-ci/</Prefix><KeyCount>" + (prefixes.size() + contents.size())
                + "</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>" + (next != null) + "</IsTruncated>");
        for (String[] c : contents) {
            x.append("<Contents><Key>").append(c[0]).append("</Key><LastModified>2025-01-02T00:00:00.000Z</LastModified>")
                    .append("<ETag>&quot;0&quot;</ETag><Size>").append(c[1]).append("</Size><StorageClass>STANDARD</StorageClass></Contents>");
        }
        for (String p : prefixes) {
            x.append("<CommonPrefixes><Prefix>firecracker-ci/").append(p).append("</Prefix></CommonPrefixes>");
        }
        if (next != null) {
            x.append("<NextContinuationToken>").append(next).append("</NextContinuationToken>");
        }
        x.append("</ListBucketResult>");
        String q = "list-type=2&" + query + (token != null ? "&continuation-token=" + enc(token) : "");
        server.files().put("/bucket/?" + q, x.toString().getBytes(StandardCharsets.UTF_8));
    }

    private void build(String build, List<String> names) {
        String prefix = "firecracker-ci/" + build + "/x86_64/";
        List<String[]> contents = new java.util.ArrayList<>();
        for (String n : names) {
            byte[] body = n.endsWith(".squashfs") ? squashfs : ("kernel " + n).getBytes(StandardCharsets.UTF_8);
            server.files().put("/bucket/" + prefix + n, body);
            contents.add(new String[] {prefix + n, Integer.toString(body.length)});
        }
        page("prefix=" + enc(prefix), null, null, List.of(), contents);
        page("prefix=" + enc("firecracker-ci/" + build + "/aarch64/"), null, null, List.of(), List.of()); // S3: empty, not 404
    }

    private BaseImageManager manager() {
        return new BaseImageManager(dir.resolve("cache"), 2, "x86_64", warnings::add, Clock.systemUTC())
                .withCiBucket(URI.create(server.url("/bucket/")));
    }

    private long objectDownloads() {
        return server.requests().stream().filter(r -> !r.contains("?")).count();
    }

    @Test
    void latestIsTheNewestDatedBuildWithAKernelAndAnUbuntuSquashfs() throws IOException {
        BaseImageBundle b = manager().ensureBaseImage("latest", null);
        assertThat(b.bundleId()).isEqualTo("firecracker-ci-20250102-def2-2-x86_64");
        assertThat(b.versions()).containsEntry("kernel", "6.1.102").containsEntry("ubuntu", "24.04")
                .containsEntry("build", "20250102-def2-2");
        assertThat(b.kernelPath()).hasContent("kernel vmlinux-6.1.102");
        assertThat(b.preset()).isEqualTo("latest");
        assertThat(b.checksums()).containsKeys("vmlinux", "rootfs.ext4", "rootfs.squashfs");
        String osRelease = CommandRunner.system().run(List.of("/usr/sbin/debugfs", "-R", "cat /etc/os-release",
                b.rootfsPath().toString()), null, Duration.ofSeconds(30)).stdout();
        assertThat(osRelease).contains("VERSION_ID=\"24.04\"");
        assertThat(server.requests()).anyMatch(r -> r.contains("continuation-token=tok%2B1%2F%3D"));

        long downloads = objectDownloads();
        assertThat(manager().ensureBaseImage("latest", null).bundleId()).isEqualTo(b.bundleId());
        assertThat(objectDownloads()).as("cached: only listings are asked for").isEqualTo(downloads);

        Files.writeString(b.rootfsPath(), "corrupt");
        BaseImageBundle repaired = manager().ensureBaseImage("latest", null);
        assertThat(warnings).anyMatch(w -> w.contains("rootfs.ext4 no longer matches its checksum"));
        assertThat(repaired.checksums()).containsEntry("vmlinux", b.checksums().get("vmlinux"))
                .containsEntry("rootfs.squashfs", b.checksums().get("rootfs.squashfs"));
        assertThat(repaired.createdAt()).isEqualTo(b.createdAt());

        Files.writeString(repaired.rootfsPath(), "corrupt again");
        server.files().put("/bucket/firecracker-ci/20250102-def2-2/x86_64/vmlinux-6.1.102",
                "kernel vmlinux-6.1.10X".getBytes(StandardCharsets.UTF_8)); // same size, other bytes
        assertThatThrownBy(() -> manager().ensureBaseImage("latest", null))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH))
                .hasMessageContaining("changed since its first download");
    }

    @Test
    void ltsIsTheNewestReleaseLine() {
        BaseImageBundle b = manager().ensureBaseImage("lts", null);
        assertThat(b.bundleId()).isEqualTo("firecracker-ci-v1.10-x86_64");
        assertThat(b.versions()).containsEntry("kernel", "5.10.210").containsEntry("ubuntu", "22.04");
    }

    @Test
    void aListingThatDisagreesWithTheDownloadOrHasNothingUsableIsRefused() throws IOException {
        server.files().put("/bucket/firecracker-ci/20250102-def2-2/x86_64/vmlinux-6.1.102", "short".getBytes());
        assertThatThrownBy(() -> manager().ensureBaseImage("latest", null))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH))
                .hasMessageContaining("the bucket listing says");
        try (var left = Files.list(dir.resolve("cache"))) {
            assertThat(left.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".lock-"))).isEmpty();
        }
        assertThatThrownBy(() -> new BaseImageManager(dir.resolve("cache"), 2, "aarch64", warnings::add, Clock.systemUTC())
                .withCiBucket(URI.create(server.url("/bucket/"))).ensureBaseImage("lts", null))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IMAGE_NOT_FOUND))
                .hasMessageContaining("aarch64");
        assertThatThrownBy(() -> manager().withCiBucket(URI.create(server.url("/nothing/"))).ensureBaseImage("lts", null))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_FAILED));
    }
}

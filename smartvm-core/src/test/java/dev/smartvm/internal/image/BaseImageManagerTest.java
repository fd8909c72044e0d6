package dev.smartvm.internal.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.StaticHttpServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The base image cache with the seed's semantics, against local files and a server on loopback. */
class BaseImageManagerTest {
    @TempDir
    Path dir;
    private Path cache;
    private StaticHttpServer server;
    private Map<String, byte[]> served;
    private List<String> requests;
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final AtomicLong now = new AtomicLong(1_700_000_000);
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochSecond(now.getAndIncrement());
        }
    };

    @BeforeEach
    void setUp() throws IOException {
        cache = dir.resolve("cache");
        server = new StaticHttpServer();
        served = server.files();
        requests = server.requests();
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    private String url(String path) {
        return server.url(path);
    }

    private BaseImageManager manager(int limit) {
        return new BaseImageManager(cache, limit, "x86_64", warnings::add, clock);
    }

    /** Serves a kernel and a rootfs and a manifest naming them by URL, sha256 and size; returns the manifest URL. */
    private String hosted(String name, String kernel, String rootfs) {
        byte[] k = kernel.getBytes(StandardCharsets.UTF_8);
        byte[] r = rootfs.getBytes(StandardCharsets.UTF_8);
        served.put("/" + name + "/vmlinux", k);
        served.put("/" + name + "/rootfs.ext4", r);
        served.put("/" + name + "/manifest.json", ("{\"schemaVersion\":1,\"name\":\"" + name + "\",\"arch\":\"x86_64\","
                + "\"versions\":{\"kernel\":\"6.1\",\"rootfs\":\"24.04\"},\"bootArgs\":\"console=ttyS0\",\"rootfsType\":\"ext4\","
                + "\"kernel\":{\"url\":\"" + url("/" + name + "/vmlinux") + "\",\"sha256\":\"" + Hashing.sha256(k)
                + "\",\"sizeBytes\":" + k.length + ",\"fileName\":\"vmlinux\"},"
                + "\"rootfs\":{\"url\":\"" + url("/" + name + "/rootfs.ext4") + "\",\"sha256\":\"" + Hashing.sha256(r)
                + "\",\"sizeBytes\":" + r.length + ",\"fileName\":\"rootfs.ext4\"}}").getBytes(StandardCharsets.UTF_8));
        return url("/" + name + "/manifest.json");
    }

    private List<String> cacheEntries() throws IOException {
        try (Stream<Path> s = Files.list(cache)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".lock-")).sorted().toList();
        }
    }

    private static ErrorCode code(Throwable t) {
        return ((SmartVmException) t).code();
    }

    @Test
    void defaultsAndLimits() {
        assertThat(BaseImageManager.DEFAULT_MAX_STORED).isEqualTo(2);
        assertThatThrownBy(() -> manager(0)).satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.INVALID_BASE_IMAGE_CACHE_LIMIT))
                .hasMessageContaining("at least 1; found 0");
        assertThatThrownBy(() -> manager(1).ensureBaseImage("hosted", null))
                .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.BASE_IMAGE_MANIFEST_FAILED));
        assertThatThrownBy(() -> manager(1).ensureBaseImage("hosted", url("/nothing.json")))
                .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.BASE_IMAGE_MANIFEST_FAILED)).hasMessageContaining("404");
        assertThatThrownBy(() -> manager(1).ensureBaseImage("hosted", dir.resolve("missing.json").toString()))
                .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.BASE_IMAGE_MANIFEST_FAILED));
        assertThatThrownBy(() -> manager(1).ensureBaseImage("nightly", "x")).hasMessageContaining("unknown base image preset");
    }

    @Test
    void downloadsVerifiesRecordsAndReusesABundle() throws IOException {
        BaseImageManager m = manager(2);
        BaseImageBundle b = m.ensureBaseImage("hosted", hosted("ubuntu", "KERNEL", "ROOTFS"));
        assertThat(b.bundleId()).startsWith("ubuntu-");
        assertThat(b.kernelPath()).hasContent("KERNEL");
        assertThat(b.rootfsPath()).hasContent("ROOTFS");
        assertThat(b.bundleDir()).isEqualTo(cache.resolve(b.bundleId()));
        assertThat(b.preset()).isEqualTo("hosted");
        assertThat(b.arch()).isEqualTo("x86_64");
        assertThat(b.versions()).containsEntry("kernel", "6.1");
        assertThat(b.rootfsType()).isEqualTo("ext4");
        assertThat(b.readOnly()).isFalse();
        assertThat(b.bootArgs()).isEqualTo("console=ttyS0");
        assertThat(b.source()).endsWith("/ubuntu/manifest.json");
        assertThat(b.checksums()).containsEntry("vmlinux", Hashing.sha256("KERNEL".getBytes()));
        assertThat(b.lastAccessedAt()).isAfterOrEqualTo(b.createdAt());
        assertThat(BaseImageManager.read(b.bundleDir())).isEqualTo(b);

        int downloads = requests.size();
        BaseImageBundle again = m.ensureBaseImage("hosted", hosted("ubuntu", "KERNEL", "ROOTFS"));
        assertThat(again.bundleId()).isEqualTo(b.bundleId());
        assertThat(again.lastAccessedAt()).isAfter(b.lastAccessedAt());
        assertThat(requests.subList(downloads, requests.size())).containsExactly("/ubuntu/manifest.json");
        assertThat(cacheEntries()).containsExactly(b.bundleId());
    }

    @Test
    void aCachedFileThatNoLongerMatchesIsFetchedAgain() throws IOException {
        BaseImageManager m = manager(2);
        String manifest = hosted("deb", "KERNEL", "ROOTFS");
        BaseImageBundle b = m.ensureBaseImage("hosted", manifest);
        Files.writeString(b.rootfsPath(), "CORRUPT");
        BaseImageBundle repaired = m.ensureBaseImage("hosted", manifest);
        assertThat(repaired.rootfsPath()).hasContent("ROOTFS");
        assertThat(warnings).anyMatch(w -> w.contains("rootfs.ext4 no longer matches its checksum"));
        assertThat(requests.stream().filter(r -> r.endsWith("rootfs.ext4"))).hasSize(2);
        assertThat(requests.stream().filter(r -> r.endsWith("vmlinux"))).hasSize(1);
    }

    @Test
    void aCorruptOrTruncatedDownloadLeavesNothing() throws IOException {
        String manifest = hosted("bad", "KERNEL", "ROOTFS");
        served.put("/bad/rootfs.ext4", "ROOTF5".getBytes());
        assertThatThrownBy(() -> manager(2).ensureBaseImage("hosted", manifest))
                .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.CHECKSUM_MISMATCH)).hasMessageContaining("sha256");
        served.put("/bad/rootfs.ext4", "ROOT".getBytes());
        assertThatThrownBy(() -> manager(2).ensureBaseImage("hosted", manifest))
                .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.CHECKSUM_MISMATCH)).hasMessageContaining("4 bytes");
        served.put("/bad/rootfs.ext4", "ROOTFS".getBytes());
        server.announce("/bad/rootfs.ext4", 60);
        assertThatThrownBy(() -> manager(2).ensureBaseImage("hosted", manifest))
                .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.DOWNLOAD_FAILED));
        served.remove("/bad/rootfs.ext4");
        assertThatThrownBy(() -> manager(2).ensureBaseImage("hosted", manifest))
                .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.DOWNLOAD_FAILED));
        assertThat(cacheEntries()).isEmpty();
    }

    @Test
    void localArtifactsAreCopiedAndHashedWhenTheManifestGivesNoChecksum() throws IOException {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("k"), "LOCAL-KERNEL");
        Files.writeString(src.resolve("r"), "LOCAL-ROOTFS");
        Path manifest = Files.writeString(src.resolve("m.json"), "{\"schemaVersion\":1,\"name\":\"local\",\"arch\":\"x86_64\","
                + "\"readOnly\":true,\"kernel\":{\"path\":\"k\",\"fileName\":\"vmlinux\"},"
                + "\"rootfs\":{\"path\":\"r\",\"fileName\":\"rootfs.ext4\",\"sizeBytes\":12}}");
        BaseImageBundle b = manager(1).ensureBaseImage("hosted", manifest.toString());
        assertThat(b.rootfsPath()).hasContent("LOCAL-ROOTFS");
        assertThat(b.readOnly()).isTrue();
        assertThat(b.checksums()).containsEntry("rootfs.ext4", Hashing.sha256("LOCAL-ROOTFS".getBytes()));
        Files.writeString(src.resolve("r"), "CHANGED-ROOT"); // same size: the manifest checks it
        BaseImageBundle changed = manager(1).ensureBaseImage("hosted", manifest.toString());
        assertThat(changed.bundleId()).isNotEqualTo(b.bundleId());
    }

    /** The original SmartVM library's manifests, as they are: bundleId names the bundle, name is free text. */
    @Test
    void aSeedFormatManifestIsReadAsItIs() throws IOException {
        Path src = Files.createDirectories(dir.resolve("seed"));
        Files.writeString(src.resolve("vmlinux"), "SEED-KERNEL");
        Files.writeString(src.resolve("rootfs.ext4"), "SEED-ROOTFS");
        String artifacts = "\"kernel\":{\"path\":\"vmlinux\",\"fileName\":\"vmlinux\",\"sha256\":\""
                + Hashing.sha256("SEED-KERNEL".getBytes()) + "\",\"sizeBytes\":11},"
                + "\"rootfs\":{\"path\":\"rootfs.ext4\",\"fileName\":\"rootfs.ext4\",\"sha256\":\""
                + Hashing.sha256("SEED-ROOTFS".getBytes()) + "\",\"sizeBytes\":11}}";
        Path seed = Files.writeString(src.resolve("seed.json"), "{\"schemaVersion\":1,\"bundleId\":\"smartvm-minimal-1\","
                + "\"name\":\"SmartVM minimal test bundle\",\"arch\":\"x86_64\",\"firecrackerVersion\":\"1.7.0\","
                + "\"rootfsType\":\"ext4\",\"rootfsIsReadOnly\":true,\"bootArgs\":\"console=ttyS0 reboot=k\"," + artifacts);
        BaseImageBundle b = manager(2).ensureBaseImage("hosted", seed.toString());
        assertThat(b.bundleId()).isEqualTo("smartvm-minimal-1");
        assertThat(b.bundleDir().getFileName()).hasToString("smartvm-minimal-1");
        assertThat(b.versions()).containsEntry("firecracker", "1.7.0");
        assertThat(b.readOnly()).isTrue();
        assertThat(b.rootfsPath()).hasContent("SEED-ROOTFS");
        assertThat(manager(2).ensureBaseImage("hosted", seed.toString()).bundleId()).isEqualTo("smartvm-minimal-1");

        Path unnamed = Files.writeString(src.resolve("unnamed.json"), "{\"schemaVersion\":1,\"name\":\"SmartVM minimal"
                + " test bundle\",\"arch\":\"x86_64\"," + artifacts);
        assertThat(manager(2).ensureBaseImage("hosted", unnamed.toString()).bundleId()).matches("smartvm-minimal-test-bundle-[0-9a-f]{12}");

        for (String bad : List.of("\"bundleId\":\"../up\",", "\"bundleId\":\".hidden\",", "\"bundleId\":\"a b\",",
                "\"firecrackerVersion\":\"latest\",", "\"name\":\"\",")) {
            Path m = Files.writeString(src.resolve("bad.json"), "{\"schemaVersion\":1,\"arch\":\"x86_64\"," + bad + artifacts);
            assertThatThrownBy(() -> manager(2).ensureBaseImage("hosted", m.toString())).as(bad)
                    .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.INVALID_BASE_IMAGE_MANIFEST));
        }
        assertThat(cacheEntries()).hasSize(2);
    }

    @Test
    void manifestsThatCannotBeRightAreRefused() throws IOException {
        Map<String, String> bad = Map.of(
                "{\"schemaVersion\":2,\"arch\":\"x86_64\"}", "schemaVersion 2",
                "{\"schemaVersion\":1,\"arch\":\"aarch64\"}", "for arch 'aarch64' and this host is x86_64",
                "{\"schemaVersion\":1,\"arch\":\"x86_64\",\"kernel\":{\"url\":\"http://h/k\",\"fileName\":\"k\"},"
                        + "\"rootfs\":{\"path\":\"r\",\"fileName\":\"r\"}}", "has no sha256",
                "{\"schemaVersion\":1,\"arch\":\"x86_64\",\"kernel\":{\"path\":\"k\",\"fileName\":\"../k\"},"
                        + "\"rootfs\":{\"path\":\"r\",\"fileName\":\"r\"}}", "plain file name",
                "{\"schemaVersion\":1,\"arch\":\"x86_64\",\"kernel\":{\"path\":\"k\",\"fileName\":\"a/k\"},"
                        + "\"rootfs\":{\"path\":\"r\",\"fileName\":\"r\"}}", "plain file name",
                "{\"schemaVersion\":1,\"arch\":\"x86_64\",\"kernel\":{\"path\":\"k\",\"url\":\"http://h/k\",\"sha256\":\""
                        + "0".repeat(64) + "\",\"fileName\":\"k\"},\"rootfs\":{\"path\":\"r\",\"fileName\":\"r\"}}",
                "exactly one of path and url");
        int i = 0;
        for (var e : bad.entrySet()) {
            Path m = Files.writeString(dir.resolve("bad" + i++ + ".json"), e.getKey());
            assertThatThrownBy(() -> manager(1).ensureBaseImage("hosted", m.toString()))
                    .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.INVALID_BASE_IMAGE_MANIFEST))
                    .hasMessageContaining(e.getValue());
        }
        assertThat(Files.exists(cache) ? cacheEntries() : List.of()).isEmpty();
    }

    @Test
    void evictsTheLeastRecentlyUsedBeyondTheLimitButNeverTheOneToKeep() throws IOException {
        BaseImageManager m = manager(2);
        String a = m.ensureBaseImage("hosted", hosted("a", "KA", "RA")).bundleId();
        String b = m.ensureBaseImage("hosted", hosted("b", "KB", "RB")).bundleId();
        String c = m.ensureBaseImage("hosted", hosted("c", "KC", "RC")).bundleId();
        assertThat(cacheEntries()).containsExactlyInAnyOrder(b, c);
        assertThat(warnings).filteredOn(w -> w.contains("evicted")).singleElement().asString().contains(a);

        m.ensureBaseImage("hosted", hosted("b", "KB", "RB")); // b is now more recent than c
        String d = m.ensureBaseImage("hosted", hosted("d", "KD", "RD")).bundleId();
        assertThat(cacheEntries()).containsExactlyInAnyOrder(b, d);

        BaseImageManager one = manager(1);
        assertThat(one.pruneBaseImageCache(b)).containsExactly(d);
        assertThat(cacheEntries()).containsExactly(b);
        assertThat(warnings).filteredOn(w -> w.contains("evicted")).hasSize(3);
    }

    @Test
    void processesFetchingTheSameImageWaitForEachOther() throws Exception {
        String manifest = hosted("same", "K".repeat(100_000), "R".repeat(300_000));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<BaseImageBundle>> all = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                all.add(pool.submit(() -> manager(2).ensureBaseImage("hosted", manifest)));
            }
            String id = all.get(0).get().bundleId();
            for (Future<BaseImageBundle> f : all) {
                assertThat(f.get().rootfsPath()).hasSize(300_000);
                assertThat(f.get().bundleId()).isEqualTo(id);
            }
        } finally {
            pool.shutdown();
        }
        assertThat(requests.stream().filter(r -> r.endsWith("rootfs.ext4"))).hasSize(1);
        assertThat(cacheEntries()).hasSize(1);
    }
}

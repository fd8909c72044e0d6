package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.image.LocalRegistry;
import dev.smartvm.internal.image.TestLayer;
import dev.smartvm.internal.io.Hashing;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OCI images from a real registry on loopback (Debian's docker-registry), behind a proxy that
 * demands an anonymous bearer token as Docker Hub does, counts what is fetched, and can corrupt
 * blobs. The image is built and pushed by the test: busybox in a gzip layer, a plain second
 * layer with a whiteout, a config with Env, WorkingDir, User, Entrypoint and Cmd, and an index
 * whose arm64 entry must not be the one chosen.
 */
class OciImageIT extends RealVmTest {
    private static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    private static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    private LocalRegistry registry;
    private HttpServer proxy;
    private final List<String> fetched = new CopyOnWriteArrayList<>();
    private volatile boolean corrupt;
    private SmartVm oci;
    private Path images;

    @BeforeAll
    void registryAndProxy() throws Exception {
        registry = new LocalRegistry();
        proxy = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        proxy.createContext("/token", x -> {
            boolean ok = x.getRequestURI().getQuery().contains("scope=repository:test/busybox:pull")
                    && x.getRequestURI().getQuery().contains("service=smartvm-test");
            byte[] body = ok ? "{\"token\":\"t0k3n\"}".getBytes() : new byte[0];
            x.sendResponseHeaders(ok ? 200 : 403, ok ? body.length : -1);
            x.getResponseBody().write(body);
            x.close();
        });
        proxy.createContext("/v2/", x -> {
            if (!"Bearer t0k3n".equals(x.getRequestHeaders().getFirst("Authorization"))) {
                x.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"http://127.0.0.1:" + proxy.getAddress().getPort()
                        + "/token\",service=\"smartvm-test\",scope=\"repository:test/busybox:pull\"");
                x.sendResponseHeaders(401, -1);
                x.close();
                return;
            }
            fetched.add(x.getRequestURI().getPath());
            try {
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(registry.url(x.getRequestURI().getPath())));
                String accept = x.getRequestHeaders().getFirst("Accept");
                if (accept != null) {
                    b.header("Accept", accept);
                }
                HttpResponse<byte[]> r = http.send(b.GET().build(), HttpResponse.BodyHandlers.ofByteArray());
                byte[] body = r.body();
                if (corrupt && x.getRequestURI().getPath().contains("/blobs/") && body.length > 100) {
                    body[body.length / 2] ^= 1;
                }
                r.headers().firstValue("Content-Type").ifPresent(v -> x.getResponseHeaders().add("Content-Type", v));
                r.headers().firstValue("Docker-Content-Digest").ifPresent(v -> x.getResponseHeaders().add("Docker-Content-Digest", v));
                x.sendResponseHeaders(r.statusCode(), body.length == 0 ? -1 : body.length);
                x.getResponseBody().write(body);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            x.close();
        });
        proxy.start();
        // Its own image cache, with the shared default image hard-linked in (no rebuild).
        images = Files.createDirectories(home.resolve("oci-images"));
        Path shared = sharedImages();
        Path resolved = shared.resolve("default.resolved.json");
        ImageBundle base = Internals.images(svm).resolve("default");
        Path baseDir = base.kernel().getParent();
        Path copy = Files.createDirectories(images.resolve(baseDir.getFileName()));
        try (Stream<Path> files = Files.list(baseDir)) {
            for (Path f : files.toList()) {
                Files.createLink(copy.resolve(f.getFileName()), f);
            }
        }
        Files.copy(resolved, images.resolve("default.resolved.json"));
        oci = SmartVm.builder().home(home.resolve("oci-home")).imagesDir(images).notices(System.err::println).build();
    }

    @AfterAll
    void stopAll() {
        if (oci != null) {
            oci.close();
        }
        if (proxy != null) {
            proxy.stop(0);
        }
        if (registry != null) {
            registry.close();
        }
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GzipCompressorOutputStream gz = new GzipCompressorOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    private static String descriptor(String mediaType, String digest, int size) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
    }

    /** Pushes a one-platform image and returns its manifest's digest and size as "digest size". */
    private String[] pushImage(String arch, String marker) throws Exception {
        byte[] busybox = TestRootDisks.busybox(Internals.images(svm).resolve("default"));
        TestLayer base = new TestLayer(false);
        for (String d : List.of("bin", "etc", "proc", "sys", "dev", "tmp", "run", "work", "home/app")) {
            base.dir(d, 0755);
        }
        base.file("bin/busybox", 0755, busybox);
        for (String applet : List.of("sh", "cat", "echo", "env", "id", "pwd", "ls")) {
            base.symlink("bin/" + applet, "busybox");
        }
        base.file("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
        base.file("etc/old", "to be whited out");
        byte[] layer1 = base.bytes();
        byte[] layer1gz = gzip(layer1);
        byte[] layer2 = new TestLayer(false).file("etc/.wh.old", "").file("etc/marker", marker).bytes();
        String config = """
                {"architecture":"%s","os":"linux",
                 "config":{"Env":["PATH=/bin","GREETING=from-config"],"WorkingDir":"/work","User":"app",
                           "Entrypoint":["/bin/echo"],"Cmd":["hello from cmd"]},
                 "rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}"""
                .formatted(arch, Hashing.sha256(layer1), Hashing.sha256(layer2));
        String repo = "test/busybox";
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":"
                + descriptor("application/vnd.oci.image.config.v1+json", registry.pushBlob(repo, config.getBytes()),
                        config.getBytes().length)
                + ",\"layers\":[" + descriptor("application/vnd.oci.image.layer.v1.tar+gzip", registry.pushBlob(repo, layer1gz),
                        layer1gz.length)
                + "," + descriptor("application/vnd.oci.image.layer.v1.tar", registry.pushBlob(repo, layer2), layer2.length)
                + "]}";
        String digest = registry.pushManifest(repo, "sha256:" + Hashing.sha256(manifest.getBytes()), OCI_MANIFEST, manifest);
        return new String[] {digest, Integer.toString(manifest.getBytes().length)};
    }

    private String pushIndex(String tag, String marker) throws Exception {
        String[] arm = pushImage("arm64", "the arm64 image was chosen\n");
        String[] amd = pushImage("amd64", marker);
        String index = "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_INDEX + "\",\"manifests\":["
                + "{\"mediaType\":\"" + OCI_MANIFEST + "\",\"digest\":\"" + arm[0] + "\",\"size\":" + arm[1]
                + ",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}},"
                + "{\"mediaType\":\"" + OCI_MANIFEST + "\",\"digest\":\"" + amd[0] + "\",\"size\":" + amd[1]
                + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";
        return registry.pushManifest("test/busybox", tag, OCI_INDEX, index);
    }

    private String ref(String reference) {
        return "127.0.0.1:" + proxy.getAddress().getPort() + "/test/busybox" + reference;
    }

    private long blobs() {
        return fetched.stream().filter(p -> p.contains("/blobs/")).count();
    }

    @Test
    void pullsUnpacksAndRunsInTheImageWithItsConfig() throws Exception {
        String indexDigest = pushIndex("1", "from layer two\n");
        long t0 = System.nanoTime();
        try (MicroVm vm = oci.start(VmSpec.builder().image(ref(":1")).build())) {
            long firstStart = System.nanoTime() - t0;
            assertThat(vm.exec("cat", "/etc/marker").stdout()).isEqualTo("from layer two\n");
            assertThat(vm.exec("ls", "/etc/old").exitCode()).as("whited out by the second layer").isNotZero();
            assertThat(vm.exec("env").stdout()).contains("GREETING=from-config");
            assertThat(vm.exec("pwd").stdout()).isEqualTo("/work\n");
            assertThat(vm.exec("id", "-u").stdout()).isEqualTo("1000\n");
            assertThat(vm.exec(ExecRequest.of("id", "-u").withUid(0)).stdout()).isEqualTo("0\n");
            assertThat(vm.imageCommand()).containsExactly("/bin/echo", "hello from cmd");
            assertThat(blobs()).as("config and two layers, once each").isEqualTo(3);

            long t1 = System.nanoTime();
            try (MicroVm again = oci.start(VmSpec.builder().image(ref(":1")).build())) {
                long secondStart = System.nanoTime() - t1;
                assertThat(again.exec("cat", "/etc/marker").stdout()).isEqualTo("from layer two\n");
                System.err.printf("OCI image: first start (pull + unpack + ext4 + boot) %d ms, second start %d ms%n",
                        firstStart / 1_000_000, secondStart / 1_000_000);
            }
            assertThat(blobs()).as("a second start fetches no blob").isEqualTo(3);
        }
        ImageBundle byDigest = Internals.images(oci).resolve(ref("@" + indexDigest));
        assertThat(byDigest.rootDisk()).exists();
        assertThat(blobs()).isEqualTo(3);
    }

    @Test
    void corruptMissingAndUnreachableImagesAreHandled() throws Exception {
        pushIndex("2", "second image\n");
        Path cache = images.resolve("oci/images");
        int before = cache.toFile().exists() ? cache.toFile().list().length : 0;
        corrupt = true;
        try {
            assertThatThrownBy(() -> Internals.images(oci).resolve(ref(":2")))
                    .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH));
        } finally {
            corrupt = false;
        }
        assertThat(cache.toFile().exists() ? cache.toFile().list().length : 0).isEqualTo(before);
        try (Stream<Path> parts = Files.exists(images.resolve("oci/blobs/sha256")) ? Files.list(images.resolve("oci/blobs/sha256"))
                : Stream.empty()) {
            assertThat(parts.filter(p -> p.getFileName().toString().startsWith(".part-"))).isEmpty();
        }
        assertThatThrownBy(() -> Internals.images(oci).resolve(ref(":nope")))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IMAGE_NOT_FOUND));

        ImageBundle pulled = Internals.images(oci).resolve(ref(":2"));
        proxy.stop(0);
        ImageBundle offline = Internals.images(oci).resolve(ref(":2"));
        assertThat(offline.rootDisk()).isEqualTo(pulled.rootDisk());
        try (InputStream in = Files.newInputStream(offline.rootDisk())) {
            assertThat(in.readNBytes(1)).hasSize(1);
        }
    }
}

package dev.smartvm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.StaticHttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code smartvm images}: base images pulled from a hosted manifest on loopback, listed, pruned and removed. */
class ImagesCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private StaticHttpServer server;
    private StringWriter out;
    private StringWriter err;

    @BeforeEach
    void setUp() throws IOException {
        System.setProperty("smartvm.home", dir.resolve("home").toString());
        server = new StaticHttpServer();
    }

    @AfterEach
    void tearDown() {
        System.clearProperty("smartvm.home");
        server.close();
    }

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        return Main.execute(args, new PrintWriter(out), new PrintWriter(err));
    }

    private String publish(String name, byte[] rootfs) {
        byte[] kernel = ("kernel of " + name).getBytes(StandardCharsets.UTF_8);
        server.files().put("/" + name + "/vmlinux", kernel);
        server.files().put("/" + name + "/rootfs.ext4", rootfs);
        server.files().put("/" + name + "/manifest.json", ("{\"schemaVersion\":1,\"name\":\"" + name + "\",\"arch\":\"x86_64\","
                + "\"kernel\":{\"url\":\"" + server.url("/" + name + "/vmlinux") + "\",\"sha256\":\"" + Hashing.sha256(kernel)
                + "\",\"fileName\":\"vmlinux\"},\"rootfs\":{\"url\":\"" + server.url("/" + name + "/rootfs.ext4")
                + "\",\"sha256\":\"" + Hashing.sha256(rootfs) + "\",\"sizeBytes\":" + rootfs.length
                + ",\"fileName\":\"rootfs.ext4\"}}").getBytes(StandardCharsets.UTF_8));
        return "hosted:" + server.url("/" + name + "/manifest.json");
    }

    private JsonNode ls() throws IOException {
        assertThat(run("images", "ls", "--json")).as(err.toString()).isZero();
        return JSON.readTree(out.toString());
    }

    @Test
    void pullListPruneAndRemove() throws IOException {
        String alpha = publish("alpha", new byte[200_000]);
        assertThat(run("images", "pull", alpha)).as(err.toString()).isZero();
        String alphaId = out.toString().strip();
        assertThat(alphaId).startsWith("alpha-");
        assertThat(err.toString()).contains("downloading rootfs.ext4 (195.3 KiB)").contains("downloaded rootfs.ext4: 195.3 KiB");
        assertThat(ls().findValuesAsText("id")).containsExactly(alphaId);
        assertThat(ls().get(0).path("kind").asText()).isEqualTo("hosted");

        assertThat(run("images", "pull", publish("beta", new byte[1000]))).isZero();
        String betaId = out.toString().strip();
        assertThat(run("images", "prune", "--max", "1")).isZero();
        assertThat(out.toString().strip()).isEqualTo(alphaId);
        assertThat(ls().findValuesAsText("id")).containsExactly(betaId);

        assertThat(run("images", "rm", betaId)).isZero();
        assertThat(ls()).isEmpty();
        assertThat(run("images", "rm", betaId)).isEqualTo(Main.EXIT_ERROR);
        assertThat(err.toString()).startsWith("error[IMAGE_NOT_FOUND]: no image " + betaId);
    }

    @Test
    void badPullsSayWhyAndCacheNothing() throws IOException {
        String gamma = publish("gamma", new byte[5000]);
        server.files().put("/gamma/rootfs.ext4", new byte[4999]);
        assertThat(run("images", "pull", gamma)).isEqualTo(Main.EXIT_ERROR);
        assertThat(err.toString()).contains("error[CHECKSUM_MISMATCH]").contains("has 4999 bytes; the manifest says 5000")
                .doesNotContain("Exception");
        assertThat(run("images", "pull", "hosted:" + server.url("/none.json"))).isEqualTo(Main.EXIT_ERROR);
        assertThat(err.toString()).startsWith("error[BASE_IMAGE_MANIFEST_FAILED]");
        assertThat(run("images", "pull", "Not A Reference")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).startsWith("error[INVALID_ARGUMENT]: 'Not A Reference' is not an image reference");
        assertThat(run("images", "pull", "127.0.0.1:1/nothing/here:1")).isEqualTo(Main.EXIT_ERROR);
        assertThat(err.toString()).startsWith("error[DOWNLOAD_FAILED]: cannot reach the registry 127.0.0.1:1");
        assertThat(run("images", "prune", "--max", "0")).isEqualTo(Main.EXIT_ERROR);
        assertThat(err.toString()).startsWith("error[INVALID_BASE_IMAGE_CACHE_LIMIT]");
        assertThat(ls()).isEmpty();
        try (var left = Files.list(dir.resolve("home/images/base"))) { // every cache under the home
            assertThat(left.filter(p -> !p.getFileName().toString().startsWith(".lock-"))).isEmpty();
        }
    }

    @Test
    void theBarShowsBytesRateAndTimeLeft() {
        assertThat(ProgressBar.line("rootfs.ext4", 50L << 20, 100L << 20, 10 << 20))
                .isEqualTo("rootfs.ext4 [############            ] 50.0 MiB / 100.0 MiB  10.0 MiB/s  ETA 0:05");
        assertThat(ProgressBar.line("layer", 3000, -1, 1500)).isEqualTo("layer 2.9 KiB  1.5 KiB/s");
        assertThat(ProgressBar.bytes(512)).isEqualTo("512 B");
    }
}

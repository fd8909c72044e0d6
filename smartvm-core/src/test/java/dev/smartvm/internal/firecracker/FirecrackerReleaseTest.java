package dev.smartvm.internal.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.StaticHttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fetching a release the way GitHub lays one out, from a server on loopback. */
class FirecrackerReleaseTest {
    private static final FirecrackerVersion V = FirecrackerVersion.parse("1.16.1");
    private static final String TGZ = "firecracker-v1.16.1-x86_64.tgz";

    @TempDir
    Path dir;
    private StaticHttpServer server;
    private Map<String, byte[]> files;
    private List<String> requests;

    @BeforeEach
    void serve() throws IOException {
        server = new StaticHttpServer();
        files = server.files();
        requests = server.requests();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private URI base() {
        return URI.create(server.url("/download/"));
    }

    private static byte[] tgz(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(out))) {
            for (var e : entries.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(e.getKey());
                entry.setSize(e.getValue().length);
                entry.setMode(0755);
                tar.putArchiveEntry(entry);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }

    private void publish(byte[] firecracker, String sums) throws IOException {
        byte[] jailer = "jailer-binary".getBytes(StandardCharsets.UTF_8);
        String listed = sums != null ? sums : Hashing.sha256(firecracker) + "  firecracker-v1.16.1-x86_64\n"
                + Hashing.sha256(jailer) + "  jailer-v1.16.1-x86_64\n";
        byte[] archive = tgz(new java.util.LinkedHashMap<>(Map.of(
                "release-v1.16.1-x86_64/firecracker-v1.16.1-x86_64", firecracker,
                "release-v1.16.1-x86_64/jailer-v1.16.1-x86_64", jailer,
                "release-v1.16.1-x86_64/SHA256SUMS", listed.getBytes(StandardCharsets.US_ASCII))));
        files.put("/download/v1.16.1/" + TGZ, archive);
        files.put("/download/v1.16.1/" + TGZ + ".sha256.txt", (Hashing.sha256(archive) + "  " + TGZ + "\n").getBytes());
    }

    @Test
    void downloadsVerifiesAndCachesTheBinaries() throws IOException {
        publish("#!/bin/sh\necho Firecracker v1.16.1\n".getBytes(), null);
        FirecrackerRelease release = new FirecrackerRelease(base(), dir.resolve("cache"));
        FirecrackerRelease.Binaries b = release.fetch(V, "x86_64");
        assertThat(b.firecracker()).isExecutable().hasContent("#!/bin/sh\necho Firecracker v1.16.1");
        assertThat(b.jailer()).isExecutable().hasContent("jailer-binary");
        int fetched = requests.size();
        assertThat(release.fetch(V, "x86_64")).isEqualTo(b);
        assertThat(requests).as("a second fetch is served from the cache").hasSize(fetched);
        try (var left = Files.list(dir.resolve("cache"))) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("v1.16.1-x86_64", ".lock");
        }
    }

    @Test
    void aTamperedTarballOrBinaryInstallsNothing() throws IOException {
        publish("real".getBytes(), null);
        files.put("/download/v1.16.1/" + TGZ + ".sha256.txt", ("00".repeat(32) + "  " + TGZ + "\n").getBytes());
        FirecrackerRelease release = new FirecrackerRelease(base(), dir.resolve("cache"));
        assertThatThrownBy(() -> release.fetch(V, "x86_64")).isInstanceOf(SmartVmException.class)
                .hasMessageContaining("tampered")
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH);

        publish("evil".getBytes(), Hashing.sha256("real".getBytes()) + "  firecracker-v1.16.1-x86_64\n");
        assertThatThrownBy(() -> release.fetch(V, "x86_64")).hasMessageContaining("but SHA256SUMS says");
        try (var left = Files.list(dir.resolve("cache"))) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly(".lock");
        }
    }

    @Test
    void aMissingReleaseIsADownloadFailure() {
        FirecrackerRelease release = new FirecrackerRelease(base(), dir.resolve("cache"));
        assertThatThrownBy(() -> release.fetch(FirecrackerVersion.parse("9.9.9"), "x86_64"))
                .hasMessageContaining("HTTP 404")
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.DOWNLOAD_FAILED);
    }
}

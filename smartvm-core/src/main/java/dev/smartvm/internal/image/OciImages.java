package dev.smartvm.internal.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.HostArch;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.LockFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * OCI images pulled into a content-addressed cache and made into ext4 root filesystems:
 * {@code blobs/sha256/<hex>} (verified layers and configs), {@code images/<manifest hex>/}
 * ({@code root.ext4} and {@code image.json}), {@code refs/} (the digest a tag last named, for
 * when the registry cannot be reached). A second pull of the same image asks the registry for
 * the manifest and finds everything else cached. Each image is assembled in a temporary
 * directory and moved into place whole, under a lock per image.
 */
public final class OciImages {
    private final Path dir;
    private final OciRegistryClient client;
    private final CommandRunner runner;
    private final Consumer<String> notices;

    public OciImages(Path dir, OciRegistryClient client, CommandRunner runner, Consumer<String> notices) {
        this.dir = dir;
        this.client = client;
        this.runner = runner;
        this.notices = notices;
    }

    /**
     * One pulled image.
     *
     * @param reference the reference it was pulled by
     * @param digest its manifest's digest
     */
    public record OciImage(String reference, String digest, Path rootDisk, ExecDefaults defaults, Instant pulledAt) {
    }

    /** The image of {@code ref} for this host's architecture, pulled and built if it is not cached. */
    @SuppressWarnings("try") // the lock is held for the block
    public OciImage pull(OciReference ref) {
        String arch = HostArch.name().equals("x86_64") ? "amd64" : "arm64";
        Path refFile = dir.resolve("refs").resolve(Hashing.sha256(ref.toString().getBytes(StandardCharsets.UTF_8)) + ".json");
        OciRegistryClient.Manifest manifest;
        try {
            manifest = client.manifest(ref, arch);
        } catch (SmartVmException e) {
            if (e.code() == ErrorCode.DOWNLOAD_FAILED && Files.isRegularFile(refFile)) {
                String digest = Json.read(refFile, RefRecord.class).digest();
                Path cached = imageDir(digest).resolve("image.json");
                if (Files.isRegularFile(cached)) {
                    notices.accept("notice: " + e.getMessage() + "; using the cached " + ref + " (" + digest + ")");
                    return Json.read(cached, OciImage.class);
                }
            }
            throw e;
        }
        Path target = imageDir(manifest.digest());
        OciImage image;
        try {
            Files.createDirectories(dir.resolve("refs"));
            try (LockFile lock = LockFile.acquire(dir.resolve(".lock-" + manifest.digest().substring(7)))) {
                image = Files.isRegularFile(target.resolve("image.json")) ? Json.read(target.resolve("image.json"), OciImage.class)
                        : build(ref, manifest, target);
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write the image cache " + dir + ": " + e.getMessage(), e);
        }
        Json.write(refFile, new RefRecord(ref.toString(), manifest.digest()));
        return image;
    }

    private record RefRecord(String reference, String digest) {
    }

    /** Every image in the cache, newest first. */
    public List<OciImage> list() {
        Path images = dir.resolve("images");
        if (!Files.isDirectory(images)) {
            return List.of();
        }
        try (java.util.stream.Stream<Path> dirs = Files.list(images)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("image.json")))
                    .map(d -> Json.read(d.resolve("image.json"), OciImage.class))
                    .sorted(java.util.Comparator.comparing(OciImage::pulledAt).reversed())
                    .toList();
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot list " + images + ": " + e.getMessage(), e);
        }
    }

    /** Removes the image whose manifest digest is or starts with {@code digest} (hex, with or without sha256:). */
    public boolean remove(String digest) {
        String hex = digest.startsWith("sha256:") ? digest.substring(7) : digest;
        if (!hex.matches("[0-9a-f]{12,64}")) {
            return false;
        }
        for (OciImage image : list()) {
            if (image.digest().substring(7).startsWith(hex)) {
                try (LockFile lock = LockFile.acquire(dir.resolve(".lock-" + image.digest().substring(7)))) {
                    FileTrees.deleteQuietly(imageDir(image.digest()));
                    lock.deleteFile();
                }
                return true;
            }
        }
        return false;
    }

    private Path imageDir(String digest) {
        return dir.resolve("images").resolve(digest.substring("sha256:".length()));
    }

    private OciImage build(OciReference ref, OciRegistryClient.Manifest manifest, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempDirectory(target.getParent(), ".build-");
        try {
            JsonNode config = Json.MAPPER.readTree(blob(ref, manifest.config()).toFile());
            Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
            LayerUnpacker unpacker = new LayerUnpacker(rootfs);
            notices.accept("unpacking " + ref + " (" + manifest.layers().size() + " layers)");
            for (OciRegistryClient.Descriptor layer : manifest.layers()) {
                try (InputStream in = Files.newInputStream(blob(ref, layer))) {
                    unpacker.apply(in, layer.digest());
                }
            }
            ExecDefaults defaults = defaults(config.path("config"), rootfs, ref);
            Ext4Image.make(rootfs, tmp.resolve("root.ext4"), runner);
            FileTrees.delete(rootfs);
            OciImage image = new OciImage(ref.toString(), manifest.digest(), target.resolve("root.ext4"), defaults, Instant.now());
            Json.write(tmp.resolve("image.json"), image);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return image;
        } finally {
            FileTrees.deleteQuietly(tmp);
        }
    }

    /** A blob from the cache, downloaded and verified first when missing. */
    private Path blob(OciReference ref, OciRegistryClient.Descriptor d) throws IOException {
        Path blobs = Files.createDirectories(dir.resolve("blobs").resolve("sha256"));
        Path file = blobs.resolve(d.digest().substring(7));
        if (Files.isRegularFile(file)) {
            return file;
        }
        Path tmp = Files.createTempFile(blobs, ".part-", "");
        try {
            client.blob(ref, d, tmp);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Env, WorkingDir, User (resolved to a uid through the image's /etc/passwd) and Entrypoint + Cmd. */
    static ExecDefaults defaults(JsonNode c, Path rootfs, OciReference ref) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : c.path("Env")) {
            String kv = e.asText();
            int eq = kv.indexOf('=');
            if (eq > 0) {
                env.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        String workdir = c.path("WorkingDir").asText("");
        List<String> command = new ArrayList<>();
        c.path("Entrypoint").forEach(w -> command.add(w.asText()));
        c.path("Cmd").forEach(w -> command.add(w.asText()));
        return new ExecDefaults(env, workdir.startsWith("/") ? workdir : null, uid(c.path("User").asText(""), rootfs, ref),
                command);
    }

    private static int uid(String user, Path rootfs, OciReference ref) throws IOException {
        String name = user.contains(":") ? user.substring(0, user.indexOf(':')) : user;
        if (name.isEmpty() || name.equals("root") || name.equals("0")) {
            return -1;
        }
        if (name.matches("\\d+")) {
            return Integer.parseInt(name);
        }
        Path passwd = rootfs.resolve("etc/passwd");
        if (Files.isRegularFile(passwd, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            for (String line : Files.readAllLines(passwd, StandardCharsets.UTF_8)) {
                String[] f = line.split(":");
                if (f.length > 2 && f[0].equals(name) && f[2].matches("\\d+")) {
                    return Integer.parseInt(f[2]);
                }
            }
        }
        throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "image " + ref + " runs as user '" + name
                + "', whom its /etc/passwd does not name");
    }
}

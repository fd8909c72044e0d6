package dev.smartvm.internal.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Downloads;
import dev.smartvm.internal.io.Json;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A hosted base image manifest, schema version 1: a kernel and a root filesystem, each a local
 * path (relative to the manifest) or a URL, with its sha256, size and file name in the bundle.
 * Two forms are read as they are: SmartVM's,
 *
 * <pre>{@code
 * {"schemaVersion": 1, "name": "ubuntu", "arch": "x86_64", "versions": {"kernel": "6.1"},
 *  "bootArgs": "console=ttyS0", "rootfsType": "ext4", "readOnly": false,
 *  "kernel": {"url": "https://example.com/vmlinux", "sha256": "…", "sizeBytes": 123, "fileName": "vmlinux"},
 *  "rootfs": {"path": "rootfs.ext4", "sha256": "…", "sizeBytes": 456, "fileName": "rootfs.ext4"}}
 * }</pre>
 *
 * and the original SmartVM library's, whose {@code bundleId} names the bundle, whose
 * {@code name} is free display text ("SmartVM minimal test bundle"), and which says
 * {@code firecrackerVersion} and {@code rootfsIsReadOnly}.
 *
 * @param source where the manifest was read from, for messages and the bundle's record
 * @param name display text (or, without a bundle id, the start of the bundle's id)
 * @param bundleId the bundle's id as the manifest gives it, or null to derive one
 * @param versions what the manifest says of its versions; {@code firecracker} from {@code firecrackerVersion}
 */
public record HostedManifest(String source, String name, String bundleId, String arch, Map<String, String> versions,
        String bootArgs, String rootfsType, boolean readOnly, Artifact kernel, Artifact rootfs) {
    public static final int SCHEMA_VERSION = 1;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private static final Pattern BUNDLE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern VERSION = Pattern.compile("v?\\d+\\.\\d+(\\.\\d+)?([-+][0-9A-Za-z.+-]*)?");
    private static final int MAX_NAME = 200;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /**
     * One file of the bundle.
     *
     * @param url where to download it, or null for a local file
     * @param path the local file (absolute, resolved against the manifest), or null for a URL
     * @param sha256 lower-case hex, or null (local files only: then computed)
     * @param sizeBytes the exact size, or null for unchecked
     * @param fileName its name inside the bundle directory
     */
    public record Artifact(URI url, Path path, String sha256, Long sizeBytes, String fileName) {
    }

    /** Reads and validates the manifest at {@code ref} (a file path or an http(s) URL) for a host of {@code arch}. */
    public static HostedManifest load(String ref, String arch, Path scratch) {
        JsonNode root;
        URI base;
        try {
            if (ref.startsWith("http://") || ref.startsWith("https://")) {
                base = URI.create(ref);
                Path file = Downloads.get(base, scratch.resolve("manifest.json"), "");
                root = Json.MAPPER.readTree(file.toFile());
            } else {
                Path file = Path.of(ref).toAbsolutePath();
                base = file.toUri();
                root = Json.MAPPER.readTree(file.toFile());
            }
        } catch (IOException | SmartVmException | IllegalArgumentException e) {
            throw new SmartVmException(ErrorCode.BASE_IMAGE_MANIFEST_FAILED, "cannot read the base image manifest " + ref
                    + ": " + e.getMessage(), e);
        }
        return parse(root, ref, base, arch);
    }

    static HostedManifest parse(JsonNode root, String source, URI base, String arch) {
        if (!root.isObject()) {
            throw invalid(source, "it is not a JSON object");
        }
        int schema = root.path("schemaVersion").asInt(-1);
        if (schema != SCHEMA_VERSION) {
            throw invalid(source, "schemaVersion " + root.path("schemaVersion") + " is not one SmartVM reads (it reads "
                    + SCHEMA_VERSION + ")");
        }
        String name = root.path("name").asText("hosted");
        if (name.isBlank() || name.length() > MAX_NAME || name.chars().anyMatch(Character::isISOControl)) {
            throw invalid(source, "name must be 1 to " + MAX_NAME + " characters of text; found '" + name + "'");
        }
        String bundleId = root.path("bundleId").asText(null);
        if (bundleId != null && !BUNDLE_ID.matcher(bundleId).matches()) {
            throw invalid(source, "bundleId must be a safe directory name (1 to 128 letters, digits, '.', '_' or '-', starting"
                    + " with a letter or digit); found '" + bundleId + "'");
        }
        String manifestArch = root.path("arch").asText(null);
        if (manifestArch == null || !manifestArch.equals(arch)) {
            throw invalid(source, "it is for arch '" + manifestArch + "' and this host is " + arch);
        }
        Map<String, String> versions = new LinkedHashMap<>();
        root.path("versions").properties().forEach(e -> versions.put(e.getKey(), e.getValue().asText()));
        if (root.hasNonNull("firecrackerVersion")) {
            String fc = root.path("firecrackerVersion").asText();
            if (!VERSION.matcher(fc).matches()) {
                throw invalid(source, "firecrackerVersion must be a version such as 1.7.0; found '" + fc + "'");
            }
            versions.put("firecracker", fc.startsWith("v") ? fc.substring(1) : fc);
        }
        String rootfsType = root.path("rootfsType").asText("ext4");
        if (!rootfsType.matches("[a-z0-9]{1,16}")) {
            throw invalid(source, "rootfsType must be a file system name such as ext4; found '" + rootfsType + "'");
        }
        Artifact kernel = artifact(root.path("kernel"), "kernel", source, base);
        Artifact rootfs = artifact(root.path("rootfs"), "rootfs", source, base);
        if (kernel.fileName().equals(rootfs.fileName()) || kernel.fileName().equals(BaseImageBundle.FILE)) {
            throw invalid(source, "kernel and rootfs need distinct file names other than " + BaseImageBundle.FILE);
        }
        boolean readOnly = root.path("readOnly").asBoolean(root.path("rootfsIsReadOnly").asBoolean(false));
        return new HostedManifest(source, name, bundleId, arch, Map.copyOf(versions), root.path("bootArgs").asText(null),
                rootfsType, readOnly, kernel, rootfs);
    }

    /**
     * The start of a derived bundle id: the name itself when it is one (SmartVM's form), else
     * its letters and digits, lower case, the rest made dashes ("smartvm-minimal-test-bundle").
     */
    public String idPrefix() {
        if (NAME.matcher(name).matches()) {
            return name;
        }
        String slug = name.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        slug = slug.length() > 40 ? slug.substring(0, 40).replaceAll("-+$", "") : slug;
        return slug.isEmpty() ? "hosted" : slug;
    }

    private static Artifact artifact(JsonNode a, String what, String source, URI base) {
        if (!a.isObject()) {
            throw invalid(source, what + " must be an object with a path or a url");
        }
        String fileName = a.path("fileName").asText(null);
        if (fileName == null || fileName.isEmpty() || fileName.contains("/") || fileName.contains("\\")
                || fileName.equals(".") || fileName.contains("..") || fileName.startsWith(".")) {
            throw invalid(source, what + ".fileName must be a plain file name (no separators, no '..'); found '" + fileName + "'");
        }
        String sha = a.path("sha256").asText(null);
        if (sha != null && !SHA256.matcher(sha).matches()) {
            throw invalid(source, what + ".sha256 must be 64 lower-case hex digits; found '" + sha + "'");
        }
        Long size = a.has("sizeBytes") ? a.path("sizeBytes").asLong(-1) : null;
        if (size != null && size < 0) {
            throw invalid(source, what + ".sizeBytes must be a non-negative number; found " + a.path("sizeBytes"));
        }
        boolean hasUrl = a.hasNonNull("url");
        boolean hasPath = a.hasNonNull("path");
        if (hasUrl == hasPath) {
            throw invalid(source, what + " needs exactly one of path and url");
        }
        if (hasUrl) {
            URI url;
            try {
                url = URI.create(a.path("url").asText());
            } catch (IllegalArgumentException e) {
                throw invalid(source, what + ".url is not a URL: " + e.getMessage());
            }
            if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
                throw invalid(source, what + ".url must be http or https; found " + url);
            }
            if (sha == null) {
                throw invalid(source, what + " is downloaded from " + url + " but has no sha256 to check it against");
            }
            return new Artifact(url, null, sha, size, fileName);
        }
        Path path;
        if (base.getScheme() != null && base.getScheme().equals("file")) {
            path = Path.of(base).resolveSibling(a.path("path").asText()).normalize();
        } else {
            throw invalid(source, what + ".path names a local file, but the manifest came from " + base
                    + "; a downloaded manifest names URLs");
        }
        return new Artifact(null, path, sha, size, fileName);
    }

    private static SmartVmException invalid(String source, String why) {
        return new SmartVmException(ErrorCode.INVALID_BASE_IMAGE_MANIFEST, "base image manifest " + source + ": " + why);
    }
}

package dev.smartvm.internal.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.DownloadListener;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pulls from registries that speak the OCI distribution API (Docker Hub, GHCR, a registry on
 * loopback...): manifests and indexes, blobs, and anonymous bearer tokens. Every byte is checked
 * against its digest. Loopback registries and $SMARTVM_INSECURE_REGISTRIES (host:port, comma
 * separated) are spoken to over plain HTTP; all others over HTTPS.
 */
public final class OciRegistryClient {
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    private static final String ACCEPT = String.join(", ", OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST);
    private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final int MAX_MANIFEST = 4 << 20;

    private volatile HttpClient http; // made on first use: building one sets up TLS, which costs a CLI run 0.4 s
    private final Set<String> insecure;
    private final DownloadListener listener;
    private final Map<String, String> tokens = new ConcurrentHashMap<>();

    public OciRegistryClient(Set<String> insecure, DownloadListener listener) {
        this.insecure = Set.copyOf(insecure);
        this.listener = listener;
    }

    /** Loopback is always insecure-allowed; $SMARTVM_INSECURE_REGISTRIES adds hosts. */
    public static OciRegistryClient fromEnvironment(DownloadListener listener) {
        String configured = System.getenv().getOrDefault("SMARTVM_INSECURE_REGISTRIES", "");
        Set<String> hosts = new java.util.HashSet<>();
        for (String h : configured.split(",")) {
            if (!h.isBlank()) {
                hosts.add(h.strip());
            }
        }
        return new OciRegistryClient(hosts, listener);
    }

    /** A content descriptor: what a manifest says of a blob. */
    public record Descriptor(String mediaType, String digest, long size) {
        static Descriptor of(JsonNode n) {
            String digest = n.path("digest").asText();
            if (!digest.matches("sha256:[0-9a-f]{64}")) {
                throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "unsupported or malformed digest '" + digest + "'");
            }
            return new Descriptor(n.path("mediaType").asText(), digest, n.path("size").asLong(-1));
        }
    }

    /** An image manifest for one platform: its digest, config and layers. */
    public record Manifest(String digest, Descriptor config, java.util.List<Descriptor> layers) {
    }

    /** The manifest of {@code ref} for linux/{@code arch} (amd64, arm64), through an index when there is one. */
    public Manifest manifest(OciReference ref, String arch) {
        Fetched f = fetchManifest(ref, ref.reference());
        JsonNode json = f.json();
        String type = json.path("mediaType").asText(f.contentType());
        if (type.equals(OCI_INDEX) || type.equals(DOCKER_LIST) || json.has("manifests")) {
            String chosen = null;
            for (JsonNode m : json.path("manifests")) {
                JsonNode p = m.path("platform");
                if (p.path("os").asText().equals("linux") && p.path("architecture").asText().equals(arch)) {
                    chosen = Descriptor.of(m).digest();
                    break;
                }
            }
            if (chosen == null) {
                throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "image " + ref + " has no linux/" + arch + " variant");
            }
            f = fetchManifest(ref, chosen);
            json = f.json();
        }
        if (!json.has("layers") || !json.has("config")) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "image " + ref + ": the manifest has no config or layers");
        }
        java.util.List<Descriptor> layers = new java.util.ArrayList<>();
        for (JsonNode l : json.path("layers")) {
            layers.add(Descriptor.of(l));
        }
        return new Manifest(f.digest(), Descriptor.of(json.path("config")), java.util.List.copyOf(layers));
    }

    private record Fetched(String digest, String contentType, JsonNode json) {
    }

    private Fetched fetchManifest(OciReference ref, String reference) {
        HttpResponse<InputStream> r = send(ref, "/manifests/" + reference, ACCEPT);
        byte[] body;
        try (InputStream in = r.body()) {
            if (r.statusCode() == 404) {
                throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "the registry " + ref.registry() + " has no image "
                        + ref.repository() + ":" + reference);
            }
            if (r.statusCode() != 200) {
                throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "the registry answered HTTP " + r.statusCode()
                        + " for the manifest of " + ref + ": " + new String(in.readNBytes(300), StandardCharsets.UTF_8).strip());
            }
            body = in.readNBytes(MAX_MANIFEST + 1);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "cannot read the manifest of " + ref + ": " + e.getMessage(), e);
        }
        if (body.length > MAX_MANIFEST) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "the manifest of " + ref + " is larger than 4 MiB");
        }
        String digest = "sha256:" + Hashing.sha256(body);
        String expected = reference.startsWith("sha256:") ? reference : r.headers().firstValue("Docker-Content-Digest").orElse(null);
        if (expected != null && !expected.equals(digest)) {
            throw new SmartVmException(ErrorCode.CHECKSUM_MISMATCH, "the manifest of " + ref + " has digest " + digest
                    + " but " + expected + " was expected");
        }
        try {
            return new Fetched(digest, r.headers().firstValue("Content-Type").orElse(""), Json.MAPPER.readTree(body));
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "the manifest of " + ref + " is not JSON: " + e.getMessage(), e);
        }
    }

    /** Downloads a blob to {@code target}, checking its size and sha256 as it streams. */
    public Path blob(OciReference ref, Descriptor d, Path target) {
        HttpResponse<InputStream> r = send(ref, "/blobs/" + d.digest(), "*/*");
        MessageDigest md = Hashing.sha256();
        long done = 0;
        String name = d.digest().substring(7, 19);
        try (InputStream in = r.body()) {
            if (r.statusCode() != 200) {
                throw new SmartVmException(r.statusCode() == 404 ? ErrorCode.IMAGE_NOT_FOUND : ErrorCode.DOWNLOAD_FAILED,
                        "blob " + d.digest() + " of " + ref + ": HTTP " + r.statusCode());
            }
            listener.progress(name, 0, d.size(), false);
            long last = 0;
            try (OutputStream out = Files.newOutputStream(target)) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    md.update(buf, 0, n);
                    done += n;
                    if (d.size() >= 0 && done > d.size()) {
                        throw new SmartVmException(ErrorCode.CHECKSUM_MISMATCH, "blob " + d.digest() + " is longer than the "
                                + d.size() + " bytes its manifest says");
                    }
                    if (System.nanoTime() - last > 100_000_000L) {
                        last = System.nanoTime();
                        listener.progress(name, done, d.size(), false);
                    }
                }
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "cannot download blob " + d.digest() + " of " + ref + ": "
                    + e.getMessage(), e);
        }
        if (d.size() >= 0 && done != d.size()) {
            throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "blob " + d.digest() + " was cut short: " + done + " of "
                    + d.size() + " bytes");
        }
        String actual = "sha256:" + HexFormat.of().formatHex(md.digest());
        if (!actual.equals(d.digest())) {
            throw new SmartVmException(ErrorCode.CHECKSUM_MISMATCH, "blob of " + ref + " has digest " + actual + " but its"
                    + " manifest says " + d.digest());
        }
        listener.progress(name, done, d.size(), true);
        return target;
    }

    private String base(OciReference ref) {
        String host = ref.apiHost();
        String bare = host.replaceFirst(":\\d+$", "");
        boolean plain = bare.equals("localhost") || bare.equals("127.0.0.1") || bare.equals("[::1]") || insecure.contains(host);
        return (plain ? "http://" : "https://") + host + "/v2/" + ref.repository();
    }

    private HttpClient http() {
        HttpClient h = http;
        if (h == null) {
            synchronized (this) {
                if (http == null) {
                    http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                            .connectTimeout(Duration.ofSeconds(20)).build();
                }
                h = http;
            }
        }
        return h;
    }

    /** GET with the scope's token; on 401 obtains a bearer token once; follows redirects without credentials. */
    private HttpResponse<InputStream> send(OciReference ref, String path, String accept) {
        String scope = "repository:" + ref.repository() + ":pull";
        String key = ref.apiHost() + " " + scope;
        URI uri = URI.create(base(ref) + path);
        try {
            for (int attempt = 0; ; attempt++) {
                HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30)).header("Accept", accept);
                String token = tokens.get(key);
                if (token != null) {
                    b.header("Authorization", "Bearer " + token);
                }
                HttpResponse<InputStream> r = http().send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
                if (r.statusCode() == 401 && attempt == 0) {
                    String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
                    r.body().close();
                    tokens.put(key, token(ref, challenge, scope));
                    continue;
                }
                for (int hops = 0; (r.statusCode() == 301 || r.statusCode() == 302 || r.statusCode() == 303
                        || r.statusCode() == 307 || r.statusCode() == 308) && hops < 5; hops++) {
                    URI next = uri.resolve(r.headers().firstValue("Location").orElseThrow(() ->
                            new IOException("a redirect without Location")));
                    r.body().close();
                    r = http().send(HttpRequest.newBuilder(next).timeout(Duration.ofMinutes(30)).GET().build(),
                            HttpResponse.BodyHandlers.ofInputStream());
                }
                return r;
            }
        } catch (IOException e) {
            String why = e.getMessage() != null ? e.getMessage()
                    : e instanceof java.net.ConnectException ? "cannot connect (no such host, or nothing listens there)"
                    : e.getClass().getSimpleName();
            throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "cannot reach the registry " + ref.registry() + " ("
                    + uri + "): " + why, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted talking to " + ref.registry(), e);
        }
    }

    /** An anonymous bearer token for {@code scope}, from the realm the challenge names. */
    private String token(OciReference ref, String challenge, String scope) throws IOException, InterruptedException {
        if (!challenge.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "the registry " + ref.registry() + " wants credentials ("
                    + (challenge.isEmpty() ? "no challenge" : challenge) + "); only anonymous pulls are supported");
        }
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1), m.group(2));
        }
        String realm = params.get("realm");
        if (realm == null) {
            throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "the registry's challenge names no realm: " + challenge);
        }
        StringBuilder q = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?");
        if (params.containsKey("service")) {
            q.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8)).append('&');
        }
        q.append("scope=").append(URLEncoder.encode(params.getOrDefault("scope", scope), StandardCharsets.UTF_8));
        HttpResponse<String> r = http().send(HttpRequest.newBuilder(URI.create(q.toString())).timeout(Duration.ofSeconds(30))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "the token service " + realm + " answered HTTP " + r.statusCode());
        }
        JsonNode j = Json.MAPPER.readTree(r.body());
        String token = j.path("token").asText(j.path("access_token").asText(""));
        if (token.isEmpty()) {
            throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "the token service " + realm + " gave no token");
        }
        return token;
    }
}

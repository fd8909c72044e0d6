package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An image reference as Docker spells it: {@code [registry/]repository[:tag][@sha256:digest]}.
 * Without a registry it is Docker Hub ({@code alpine} is {@code docker.io/library/alpine:latest}).
 *
 * @param registry host[:port] as written (docker.io for Docker Hub)
 * @param repository the repository path
 * @param tag the tag, or null when a digest is given without one
 * @param digest {@code sha256:<hex>}, or null
 */
public record OciReference(String registry, String repository, String tag, String digest) {
    public static final String DOCKER_HUB = "docker.io";
    private static final Pattern REPOSITORY = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern HOST = Pattern.compile("(?:[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]{1,5})?");

    /** Parses a reference, or says what is wrong with it (INVALID_ARGUMENT). */
    public static OciReference parse(String ref) {
        return tryParse(ref).orElseThrow(() -> new SmartVmException(ErrorCode.INVALID_ARGUMENT, "'" + ref
                + "' is not an image reference such as alpine:3.20, registry.example.com/team/app:1.0 or"
                + " repo@sha256:<64 hex digits>"));
    }

    /** Empty when {@code ref} is not a well-formed reference. */
    public static Optional<OciReference> tryParse(String ref) {
        if (ref == null || ref.isEmpty() || ref.length() > 512 || ref.startsWith(".") || ref.startsWith("/")) {
            return Optional.empty();
        }
        String rest = ref;
        String digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = rest.substring(at + 1);
            rest = rest.substring(0, at);
            if (!DIGEST.matcher(digest).matches()) {
                return Optional.empty();
            }
        }
        String registry = DOCKER_HUB;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost") || first.startsWith("[")) {
                if (!HOST.matcher(first).matches()) {
                    return Optional.empty();
                }
                registry = first;
                rest = rest.substring(slash + 1);
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                return Optional.empty();
            }
        }
        if (tag == null && digest == null) {
            tag = "latest";
        }
        if (registry.equals(DOCKER_HUB) && !rest.contains("/")) {
            rest = "library/" + rest;
        }
        if (!REPOSITORY.matcher(rest).matches()) {
            return Optional.empty();
        }
        return Optional.of(new OciReference(registry, rest, tag, digest));
    }

    /** What the registry's manifest endpoint takes: the digest when there is one, else the tag. */
    public String reference() {
        return digest != null ? digest : tag;
    }

    /** The host to talk to: Docker Hub's API lives at registry-1.docker.io. */
    public String apiHost() {
        return registry.equals(DOCKER_HUB) ? "registry-1.docker.io" : registry;
    }

    @Override
    public String toString() {
        return registry + "/" + repository + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}

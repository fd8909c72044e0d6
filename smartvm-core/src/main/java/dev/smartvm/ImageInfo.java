package dev.smartvm;

import java.util.List;
import java.util.Map;

/**
 * One cached image.
 *
 * @param id what {@link Images#remove} takes
 * @param kind {@code default}, {@code debian}, {@code oci}, {@code hosted}, or a Firecracker CI
 *     preset ({@code lts}, {@code latest})
 * @param summary what it is, for a human
 * @param command the default command of a VM booted from it (an OCI image's Entrypoint and
 *     Cmd), empty when it has none
 * @param details what else is known of it, by name (where its files are, its source, versions,
 *     digest, when it was fetched or last used...): strings, booleans and maps of strings
 */
public record ImageInfo(String id, String kind, String summary, List<String> command, Map<String, Object> details) {
    public ImageInfo {
        command = command == null ? List.of() : List.copyOf(command);
        details = details == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(details));
    }
}

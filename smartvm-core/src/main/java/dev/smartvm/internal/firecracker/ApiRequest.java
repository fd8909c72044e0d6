package dev.smartvm.internal.firecracker;

import java.util.Map;

/**
 * One request to Firecracker's API.
 *
 * @param method HTTP method
 * @param template the path as the spec names it, e.g. {@code /drives/{drive_id}}
 * @param path the concrete path, e.g. {@code /drives/rootfs}
 * @param body the JSON body, or null for none
 */
public record ApiRequest(String method, String template, String path, Map<String, Object> body) {
    static ApiRequest put(String path, Map<String, Object> body) {
        return new ApiRequest("PUT", path, path, body);
    }

    static ApiRequest put(String template, String id, Map<String, Object> body) {
        return new ApiRequest("PUT", template, template.substring(0, template.indexOf('{')) + id, body);
    }
}

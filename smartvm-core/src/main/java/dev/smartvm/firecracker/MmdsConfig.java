package dev.smartvm.firecracker;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The microVM metadata service ({@code PUT /mmds/config}): which interfaces may reach it, at
 * which link-local address, in which version.
 */
public record MmdsConfig(String version, List<String> networkInterfaces, String ipv4Address, Boolean imdsCompat) implements ApiObject {
    /** The spec's pattern: 169.254.1-254.0-255. */
    private static final Pattern LINK_LOCAL = Pattern.compile(
            "169\\.254\\.([1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])\\.([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])");

    public MmdsConfig {
        networkInterfaces = networkInterfaces == null ? List.of() : List.copyOf(networkInterfaces);
    }

    void validate(Validation v) {
        v.check(version == null || version.equals("V1") || version.equals("V2"), "mmds.version must be V1 or V2; found '" + version + "'");
        v.check(!networkInterfaces.isEmpty(), "mmds.networkInterfaces must name at least one interface");
        v.check(ipv4Address == null || LINK_LOCAL.matcher(ipv4Address).matches(),
                "mmds.ipv4Address must be a link-local address 169.254.1.0 to 169.254.254.255; found '" + ipv4Address + "'");
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("version", version).put("network_interfaces", networkInterfaces)
                .put("ipv4_address", ipv4Address).put("imds_compat", imdsCompat).build();
    }
}

package dev.smartvm.internal.firecracker;

import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.internal.io.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The requests that configure and start one Firecracker VM, in the order Firecracker needs
 * them: logger and metrics first (so the rest is logged), then the machine, boot source,
 * drives, network interfaces, vsock, MMDS configuration and contents, balloon, entropy and
 * serial devices, and finally InstanceStart.
 */
public final class FirecrackerPlan {
    private FirecrackerPlan() {
    }

    /**
     * Validates {@code config} for {@code version} (every error at once, before anything is
     * sent) and returns the requests.
     *
     * @param mmdsData the MMDS contents, or null for none (copied deeply)
     */
    public static List<ApiRequest> of(VmConfig config, Map<String, Object> mmdsData, FirecrackerVersion version,
            FieldSupport support) {
        return of(config, ConfigAsGiven.NONE, mmdsData, version, support);
    }

    /**
     * As {@link #of(VmConfig, Map, FirecrackerVersion, FieldSupport)}, with the objects of a
     * config file sent as given: {@code cpu-config} after the machine's, {@code pmem} after the
     * drives, {@code memory-hotplug} after the balloon; a key the version lacks is refused.
     */
    static List<ApiRequest> of(VmConfig config, ConfigAsGiven given, Map<String, Object> mmdsData, FirecrackerVersion version,
            FieldSupport support) {
        given.checkFor(version, support);
        config.validateFor(version, support).orThrow();
        List<ApiRequest> r = new ArrayList<>();
        if (config.logger() != null) {
            r.add(ApiRequest.put("/logger", config.logger().toPayload()));
        }
        if (config.metrics() != null) {
            r.add(ApiRequest.put("/metrics", config.metrics().toPayload()));
        }
        r.add(ApiRequest.put("/machine-config", config.machineConfig().toPayload()));
        if (given.cpuConfig() != null) {
            r.add(ApiRequest.put("/cpu-config", given.cpuConfigBody()));
        }
        r.add(ApiRequest.put("/boot-source", config.bootSource().toPayload()));
        config.drives().forEach(d -> r.add(ApiRequest.put("/drives/{drive_id}", d.driveId(), d.toPayload())));
        given.pmem().forEach(p -> r.add(ApiRequest.put("/pmem/{id}", p.get("id").asText(), ConfigAsGiven.body(p))));
        config.networkInterfaces().forEach(n -> r.add(ApiRequest.put("/network-interfaces/{iface_id}", n.ifaceId(), n.toPayload())));
        if (config.vsock() != null) {
            r.add(ApiRequest.put("/vsock", config.vsock().toPayload()));
        }
        if (config.mmds() != null) {
            r.add(ApiRequest.put("/mmds/config", config.mmds().toPayload()));
        }
        if (mmdsData != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> copy = Json.MAPPER.convertValue(mmdsData, LinkedHashMap.class);
            r.add(ApiRequest.put("/mmds", copy));
        }
        if (config.balloon() != null) {
            r.add(ApiRequest.put("/balloon", config.balloon().toPayload()));
        }
        if (given.memoryHotplug() != null) {
            r.add(ApiRequest.put("/hotplug/memory", given.memoryHotplugBody()));
        }
        if (config.entropy() != null) {
            r.add(ApiRequest.put("/entropy", config.entropy().toPayload()));
        }
        if (config.serial() != null) {
            r.add(ApiRequest.put("/serial", config.serial().toPayload()));
        }
        r.add(ApiRequest.put("/actions", Map.of("action_type", "InstanceStart")));
        return List.copyOf(r);
    }
}

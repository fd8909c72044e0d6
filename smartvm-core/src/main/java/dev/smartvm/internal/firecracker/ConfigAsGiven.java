package dev.smartvm.internal.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.internal.io.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The objects of a Firecracker config file that SmartVM does not set itself and sends as given
 * ({@code cpu-config}, {@code pmem}, {@code memory-hotplug}), with the keys the file has, by which
 * a key newer than the target Firecracker is refused naming the release that added it. Read and
 * checked by {@link FirecrackerConfigFile#asGiven}; their contents are Firecracker's to judge.
 */
record ConfigAsGiven(JsonNode cpuConfig, List<JsonNode> pmem, JsonNode memoryHotplug, Set<String> keys) {
    static final ConfigAsGiven NONE = new ConfigAsGiven(null, List.of(), null, Set.of());

    ConfigAsGiven {
        pmem = List.copyOf(pmem);
        keys = Set.copyOf(keys);
    }

    /** Refuses a key of the file that {@code version} does not have, naming the release that added it. */
    void checkFor(FirecrackerVersion version, FieldSupport support) {
        for (String k : keys) {
            String item = "FullVmConfiguration." + k;
            if (support.firstRelease(item).isPresent() && !support.supports(item, version)) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the Firecracker config's '" + k + "' needs Firecracker "
                        + support.firstRelease(item).get() + " or newer; the target is " + version);
            }
        }
    }

    /** The same, its pmem devices' files where a jailed Firecracker finds them once linked in ({@link Jailer#filesOf}). */
    ConfigAsGiven inJail() {
        List<JsonNode> jailed = pmem.stream().map(p -> {
            ObjectNode copy = p.deepCopy();
            copy.put("path_on_host", "/" + Jailer.pmemName(p.path("id").asText()));
            return (JsonNode) copy;
        }).toList();
        return new ConfigAsGiven(cpuConfig, jailed, memoryHotplug, keys);
    }

    /** {@code PUT /cpu-config}'s body, as given. */
    Map<String, Object> cpuConfigBody() {
        return body(cpuConfig);
    }

    /** {@code PUT /hotplug/memory}'s body, as given. */
    Map<String, Object> memoryHotplugBody() {
        return body(memoryHotplug);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> body(JsonNode node) {
        return Json.MAPPER.convertValue(node, LinkedHashMap.class);
    }
}

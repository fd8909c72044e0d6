package dev.smartvm.internal.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.internal.io.Json;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The objects of a Firecracker config file that SmartVM does not set itself and sends as given
 * ({@code cpu-config}, {@code pmem}, {@code memory-hotplug}), with the keys the file has, by which
 * a key newer than the target Firecracker is refused naming the release that added it. Their
 * shapes are checked as Firecracker checks them (an object; a pmem entry's fields; the
 * hotplug's sizes), their contents are Firecracker's to judge.
 */
record ConfigAsGiven(JsonNode cpuConfig, List<JsonNode> pmem, JsonNode memoryHotplug, Set<String> keys) {
    static final ConfigAsGiven NONE = new ConfigAsGiven(null, List.of(), null, Set.of());
    private static final Set<String> PMEM_FIELDS = Set.of("id", "path_on_host", "root_device", "read_only");
    private static final Set<String> HOTPLUG_FIELDS = Set.of("total_size_mib", "slot_size_mib", "block_size_mib");

    ConfigAsGiven {
        pmem = List.copyOf(pmem);
        keys = Set.copyOf(keys);
    }

    /** The as-given objects of a parsed config file (an object, checked for unknown keys already). */
    static ConfigAsGiven of(JsonNode root) {
        Set<String> keys = new TreeSet<>();
        for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!root.get(k).isNull()) {
                keys.add(k);
            }
        }
        JsonNode cpu = present(root, "cpu-config");
        if (cpu != null && !cpu.isObject()) {
            throw bad("cpu-config must be an object");
        }
        List<JsonNode> pmem = new ArrayList<>();
        JsonNode list = present(root, "pmem");
        if (list != null) {
            if (!list.isArray()) {
                throw bad("pmem must be an array");
            }
            for (int i = 0; i < list.size(); i++) {
                JsonNode p = list.get(i);
                fields(p, "pmem[" + i + "]", PMEM_FIELDS);
                if (!p.path("id").isTextual() || !p.path("path_on_host").isTextual()) {
                    throw bad("pmem[" + i + "] needs 'id' and 'path_on_host' as strings");
                }
                pmem.add(p);
            }
        }
        JsonNode hotplug = present(root, "memory-hotplug");
        if (hotplug != null) {
            fields(hotplug, "memory-hotplug", HOTPLUG_FIELDS);
            for (String f : HOTPLUG_FIELDS) {
                if (hotplug.has(f) && !hotplug.get(f).isNull() && !hotplug.get(f).canConvertToInt()) {
                    throw bad("memory-hotplug." + f + " must be an integer");
                }
            }
        }
        return new ConfigAsGiven(cpu, pmem, hotplug, keys);
    }

    private static JsonNode present(JsonNode root, String key) {
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? null : v;
    }

    private static void fields(JsonNode o, String where, Set<String> known) {
        if (!o.isObject()) {
            throw bad(where + " must be an object");
        }
        for (Iterator<String> it = o.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!known.contains(f)) {
                throw bad(where + " has an unknown field '" + f + "'; known: " + new TreeSet<>(known));
            }
        }
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

    private static SmartVmException bad(String message) {
        return new SmartVmException(ErrorCode.INVALID_ARGUMENT, message);
    }
}

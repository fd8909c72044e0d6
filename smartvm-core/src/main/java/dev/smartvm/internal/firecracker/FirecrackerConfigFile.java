package dev.smartvm.internal.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.Balloon;
import dev.smartvm.firecracker.BootSource;
import dev.smartvm.firecracker.Drive;
import dev.smartvm.firecracker.EntropyDevice;
import dev.smartvm.firecracker.Logger;
import dev.smartvm.firecracker.MachineConfig;
import dev.smartvm.firecracker.Metrics;
import dev.smartvm.firecracker.MmdsConfig;
import dev.smartvm.firecracker.NetworkInterface;
import dev.smartvm.firecracker.RateLimiter;
import dev.smartvm.firecracker.SerialDevice;
import dev.smartvm.firecracker.TokenBucket;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.firecracker.Vsock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Firecracker's own configuration file ({@code firecracker --config-file}, the shape of its
 * {@code FullVmConfiguration}): the API objects under their API names ({@code boot-source},
 * {@code machine-config}, {@code drives}...), each with the fields of its API body, and
 * {@code null} for any object or optional field that is absent. Read strictly, as Firecracker
 * reads it: an unknown object or field, or a value of the wrong type, is an error naming where
 * it is. {@code cpu-config}, {@code pmem} and {@code memory-hotplug} are kept as given
 * ({@link ConfigAsGiven}); {@code serial} is SmartVM's addition ({@code PUT /serial}).
 */
public final class FirecrackerConfigFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> OBJECTS = Set.of("balloon", "drives", "boot-source", "cpu-config", "logger",
            "machine-config", "metrics", "memory-hotplug", "mmds-config", "network-interfaces", "pmem", "vsock", "entropy",
            "serial");

    private static final String[] HOTPLUG_SIZES = {"total_size_mib", "slot_size_mib", "block_size_mib"};

    private FirecrackerConfigFile() {
    }

    /** A file's objects: those SmartVM's configuration takes, and those sent as given. */
    record Contents(VmConfig config, ConfigAsGiven asGiven) {
    }

    public static VmConfig read(Path file) {
        return load(file).config();
    }

    /** The whole file, read once and checked throughout. */
    static Contents load(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "cannot read the Firecracker config " + file + ": "
                    + e.getMessage(), e);
        }
        try {
            if (root != null && root.isObject()) {
                hostPaths(root, file.toAbsolutePath().getParent());
            }
            return new Contents(parse(root), asGiven(root));
        } catch (SmartVmException e) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, file + ": " + e.getMessage(), e);
        }
    }

    /** Each object's fields that name a file on the host. */
    private static final Map<String, String> PATH_FIELDS = Map.of("boot-source", "kernel_image_path",
            "drives", "path_on_host", "pmem", "path_on_host", "logger", "log_path", "metrics", "metrics_path",
            "serial", "serial_out_path", "vsock", "uds_path");

    /**
     * Makes the file's relative paths absolute from the file's directory: SmartVM runs
     * Firecracker in the VM's directory, where they would mean something else, and a file is
     * usually run from beside the files it names ({@code initrd_path}, refused, is left alone).
     */
    private static void hostPaths(JsonNode root, Path base) {
        PATH_FIELDS.forEach((object, field) -> {
            JsonNode o = root.get(object);
            for (JsonNode item : o == null ? List.<JsonNode>of() : o.isArray() ? toList(o) : List.of(o)) {
                if (item instanceof ObjectNode n && n.get(field) != null && n.get(field).isTextual()
                        && !n.get(field).asText().isEmpty() && !Path.of(n.get(field).asText()).isAbsolute()) {
                    n.put(field, base.resolve(n.get(field).asText()).normalize().toString());
                }
            }
        });
    }

    private static List<JsonNode> toList(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    /**
     * The objects sent as given, their shapes checked as Firecracker checks them (an object; a
     * pmem entry's fields, its id and path; the hotplug's sizes as integers), and the file's keys.
     */
    static ConfigAsGiven asGiven(JsonNode root) {
        Obj top = new Obj(root, "the config", OBJECTS);
        Set<String> keys = new TreeSet<>();
        root.fieldNames().forEachRemaining(k -> {
            if (top.get(k) != null) {
                keys.add(k);
            }
        });
        List<JsonNode> pmem = new ArrayList<>();
        for (Obj p : top.list("pmem")) {
            Obj entry = p.with("id", "path_on_host", "root_device", "read_only");
            if (entry.str("id") == null || entry.str("path_on_host") == null) {
                throw Obj.bad(entry.where() + " needs 'id' and 'path_on_host'");
            }
            entry.bool("root_device");
            entry.bool("read_only");
            pmem.add(entry.node());
        }
        Obj hotplug = top.obj("memory-hotplug");
        if (hotplug != null) {
            Obj sizes = hotplug.with(HOTPLUG_SIZES);
            for (String f : HOTPLUG_SIZES) {
                sizes.integer(f);
            }
        }
        Obj cpu = top.obj("cpu-config"); // an object; its modifiers are Firecracker's to judge
        return new ConfigAsGiven(cpu == null ? null : cpu.node(), pmem, hotplug == null ? null : hotplug.node(), keys);
    }

    public static VmConfig parse(JsonNode root) {
        Obj top = new Obj(root, "the config", OBJECTS);
        List<Drive> drives = new ArrayList<>();
        for (Obj d : top.list("drives")) {
            drives.add(d.with("drive_id", "path_on_host", "is_root_device", "is_read_only", "partuuid", "cache_type", "io_engine",
                    "rate_limiter").let(o -> new Drive(o.str("drive_id"), o.str("path_on_host"), o.bool("is_root_device", false),
                    o.bool("is_read_only", false), o.str("partuuid"), o.str("cache_type"), o.str("io_engine"),
                    rateLimiter(o.obj("rate_limiter")))));
        }
        List<NetworkInterface> nics = new ArrayList<>();
        for (Obj n : top.list("network-interfaces")) {
            nics.add(n.with("iface_id", "host_dev_name", "guest_mac", "mtu", "rx_rate_limiter", "tx_rate_limiter")
                    .let(o -> new NetworkInterface(o.str("iface_id"), o.str("host_dev_name"), o.str("guest_mac"), o.integer("mtu"),
                            rateLimiter(o.obj("rx_rate_limiter")), rateLimiter(o.obj("tx_rate_limiter")))));
        }
        return new VmConfig(
                top.obj("boot-source") == null ? null : top.obj("boot-source").with("kernel_image_path", "initrd_path", "boot_args")
                        .let(o -> new BootSource(o.str("kernel_image_path"), o.str("initrd_path"), o.str("boot_args"))),
                top.obj("machine-config") == null ? null : top.obj("machine-config").with("vcpu_count", "mem_size_mib", "smt",
                        "cpu_template", "huge_pages", "track_dirty_pages").let(o -> new MachineConfig(o.integer("vcpu_count", 0),
                        o.integer("mem_size_mib", 0), o.bool("smt"), o.str("cpu_template"), o.str("huge_pages"),
                        o.bool("track_dirty_pages"))),
                drives, nics,
                top.obj("vsock") == null ? null : top.obj("vsock").with("guest_cid", "uds_path")
                        .let(o -> new Vsock(o.integer("guest_cid", 0), o.str("uds_path"))),
                top.obj("balloon") == null ? null : top.obj("balloon").with("amount_mib", "deflate_on_oom",
                        "stats_polling_interval_s", "free_page_hinting", "free_page_reporting").let(o -> new Balloon(
                        o.integer("amount_mib", 0), o.bool("deflate_on_oom", false), o.integer("stats_polling_interval_s"),
                        o.bool("free_page_hinting"), o.bool("free_page_reporting"))),
                top.obj("mmds-config") == null ? null : top.obj("mmds-config").with("version", "network_interfaces",
                        "ipv4_address", "imds_compat").let(o -> new MmdsConfig(o.str("version"), o.strings("network_interfaces"),
                        o.str("ipv4_address"), o.bool("imds_compat"))),
                top.obj("logger") == null ? null : top.obj("logger").with("level", "log_path", "show_level", "show_log_origin",
                        "module").let(o -> new Logger(o.str("level"), o.str("log_path"), o.bool("show_level"),
                        o.bool("show_log_origin"), o.str("module"))),
                top.obj("metrics") == null ? null : top.obj("metrics").with("metrics_path")
                        .let(o -> new Metrics(o.str("metrics_path"))),
                top.obj("entropy") == null ? null : top.obj("entropy").with("rate_limiter")
                        .let(o -> new EntropyDevice(rateLimiter(o.obj("rate_limiter")))),
                top.obj("serial") == null ? null : top.obj("serial").with("serial_out_path", "rate_limiter")
                        .let(o -> new SerialDevice(o.str("serial_out_path"), tokenBucket(o.obj("rate_limiter")))));
    }

    private static RateLimiter rateLimiter(Obj o) {
        return o == null ? null : o.with("bandwidth", "ops")
                .let(r -> new RateLimiter(tokenBucket(r.obj("bandwidth")), tokenBucket(r.obj("ops"))));
    }

    private static TokenBucket tokenBucket(Obj o) {
        return o == null ? null : o.with("size", "one_time_burst", "refill_time")
                .let(b -> new TokenBucket(b.longValue("size"), b.longOrNull("one_time_burst"), b.longValue("refill_time")));
    }

    /** One JSON object being read: its place in the file, and the fields it may have. */
    private record Obj(JsonNode node, String where, Set<String> fields) {
        Obj {
            if (!node.isObject()) {
                throw bad(where + " must be an object");
            }
            if (fields != null) {
                for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
                    String f = it.next();
                    if (!fields.contains(f)) {
                        throw bad(where + " has an unknown field '" + f + "'; known: " + new TreeSet<>(fields));
                    }
                }
            }
        }

        Obj with(String... known) {
            return new Obj(node, where, Set.of(known));
        }

        <T> T let(java.util.function.Function<Obj, T> f) {
            return f.apply(this);
        }

        JsonNode get(String f) {
            JsonNode v = node.get(f);
            return v == null || v.isNull() ? null : v;
        }

        Obj obj(String f) {
            JsonNode v = get(f);
            return v == null ? null : new Obj(v, where + "." + f, null);
        }

        List<Obj> list(String f) {
            JsonNode v = get(f);
            List<Obj> out = new ArrayList<>();
            if (v == null) {
                return out;
            }
            if (!v.isArray()) {
                throw bad(where + "." + f + " must be an array");
            }
            for (int i = 0; i < v.size(); i++) {
                out.add(new Obj(v.get(i), f + "[" + i + "]", null));
            }
            return out;
        }

        String str(String f) {
            JsonNode v = get(f);
            if (v != null && !v.isTextual()) {
                throw bad(where + "." + f + " must be a string");
            }
            return v == null ? null : v.asText();
        }

        List<String> strings(String f) {
            JsonNode v = get(f);
            if (v == null) {
                return null;
            }
            List<String> out = new ArrayList<>();
            for (int i = 0; v.isArray() && i < v.size(); i++) {
                if (!v.get(i).isTextual()) {
                    throw bad(where + "." + f + " must be an array of strings");
                }
                out.add(v.get(i).asText());
            }
            if (!v.isArray()) {
                throw bad(where + "." + f + " must be an array of strings");
            }
            return out;
        }

        Boolean bool(String f) {
            JsonNode v = get(f);
            if (v != null && !v.isBoolean()) {
                throw bad(where + "." + f + " must be true or false");
            }
            return v == null ? null : v.asBoolean();
        }

        boolean bool(String f, boolean dflt) {
            Boolean b = bool(f);
            return b == null ? dflt : b;
        }

        Integer integer(String f) {
            JsonNode v = get(f);
            if (v != null && !v.canConvertToInt()) {
                throw bad(where + "." + f + " must be an integer");
            }
            return v == null ? null : v.asInt();
        }

        int integer(String f, int dflt) {
            Integer i = integer(f);
            return i == null ? dflt : i;
        }

        Long longOrNull(String f) {
            JsonNode v = get(f);
            if (v != null && !v.canConvertToLong()) {
                throw bad(where + "." + f + " must be an integer");
            }
            return v == null ? null : v.asLong();
        }

        long longValue(String f) {
            Long l = longOrNull(f);
            if (l == null) {
                throw bad(where + "." + f + " is required");
            }
            return l;
        }

        static SmartVmException bad(String message) {
            return new SmartVmException(ErrorCode.INVALID_ARGUMENT, message);
        }
    }
}

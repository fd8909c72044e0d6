package dev.smartvm.internal.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The configuration a VM runs with ({@code GET /vm/config}) as a file a user can keep: what
 * SmartVM adds for its guest agent taken out (the initramfs, the agent's boot args, SmartVM's
 * log and metrics files), and every path made a host path, absolute, since Firecracker was given
 * them relative to the VM's directory or the jail. Given back to {@code --firecracker-config} it
 * plans the same requests; given to Firecracker it boots the kernel on the root drive.
 */
final class ConfigExport {
    private ConfigExport() {
    }

    static JsonNode of(JsonNode running, FirecrackerLayout layout) {
        ObjectNode config = running.deepCopy();
        if (config.get("boot-source") instanceof ObjectNode boot) {
            boot.remove("initrd_path");
            if (boot.get("boot_args") != null && boot.get("boot_args").isTextual()) {
                boot.put("boot_args", ConfigMerge.userArgs(boot.get("boot_args").asText()));
            }
            hostPath(boot, "kernel_image_path", layout);
        }
        removeIfOwn(config, "logger", "log_path", FirecrackerBackend.LOG_FILE, layout);
        removeIfOwn(config, "metrics", "metrics_path", FirecrackerBackend.METRICS_FILE, layout);
        for (String list : List.of("drives", "pmem")) {
            for (JsonNode d : config.path(list)) {
                hostPath((ObjectNode) d, "path_on_host", layout);
            }
        }
        hostPath(config.get("vsock"), "uds_path", layout);
        hostPath(config.get("logger"), "log_path", layout);
        hostPath(config.get("metrics"), "metrics_path", layout);
        hostPath(config.get("serial"), "serial_out_path", layout);
        return config;
    }

    private static void removeIfOwn(ObjectNode config, String object, String field, String ownFile, FirecrackerLayout layout) {
        if (config.path(object).path(field).asText("").equals(layout.ownFile(ownFile))) {
            config.remove(object);
        }
    }

    private static void hostPath(JsonNode object, String field, FirecrackerLayout layout) {
        if (object instanceof ObjectNode o && o.get(field) != null && o.get(field).isTextual()) {
            o.put(field, layout.hostPath(o.get(field).asText()).toString());
        }
    }
}

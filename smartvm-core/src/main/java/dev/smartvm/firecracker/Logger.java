package dev.smartvm.firecracker;

import java.util.Map;
import java.util.Set;

/** Firecracker's own log ({@code PUT /logger}); {@code level} is one of Error, Warning, Info, Debug, Trace, Off. */
public record Logger(String level, String logPath, Boolean showLevel, Boolean showLogOrigin, String module) implements ApiObject {
    private static final Set<String> LEVELS = Set.of("Error", "Warning", "Info", "Debug", "Trace", "Off");

    void validate(Validation v) {
        v.check(level == null || LEVELS.contains(level),
                "logger.level must be one of Error, Warning, Info, Debug, Trace, Off; found '" + level + "'");
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("level", level).put("log_path", logPath).put("show_level", showLevel)
                .put("show_log_origin", showLogOrigin).put("module", module).build();
    }
}

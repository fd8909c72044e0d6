package dev.smartvm.firecracker;

import java.util.Map;

/** Where Firecracker flushes its JSON metrics ({@code PUT /metrics}). */
public record Metrics(String metricsPath) implements ApiObject {
    void validate(Validation v) {
        v.check(metricsPath != null && !metricsPath.isBlank(), "metrics.metricsPath is required");
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("metrics_path", metricsPath).build();
    }
}

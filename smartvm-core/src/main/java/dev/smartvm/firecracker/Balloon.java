package dev.smartvm.firecracker;

import java.util.Map;

/** The memory balloon ({@code PUT /balloon}); the optional fields are null when not set. */
public record Balloon(int amountMib, boolean deflateOnOom, Integer statsPollingIntervalS, Boolean freePageHinting,
        Boolean freePageReporting) implements ApiObject {
    public static Balloon of(int amountMib, boolean deflateOnOom) {
        return new Balloon(amountMib, deflateOnOom, null, null, null);
    }

    void validate(Validation v) {
        v.check(amountMib >= 0, "balloon.amountMib must be >= 0; found " + amountMib);
        v.check(statsPollingIntervalS == null || statsPollingIntervalS >= 0,
                "balloon.statsPollingIntervalS must be >= 0; found " + statsPollingIntervalS);
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("amount_mib", amountMib).put("deflate_on_oom", deflateOnOom)
                .put("stats_polling_interval_s", statsPollingIntervalS).put("free_page_hinting", freePageHinting)
                .put("free_page_reporting", freePageReporting).build();
    }
}

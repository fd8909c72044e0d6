package dev.smartvm.firecracker;

import java.util.Map;
import java.util.Set;

/**
 * A virtio block device ({@code PUT /drives/{drive_id}}).
 *
 * @param cacheType {@code Unsafe} or {@code Writeback}, or null for Firecracker's default
 * @param ioEngine {@code Sync} or {@code Async}, or null for Firecracker's default
 */
public record Drive(String driveId, String pathOnHost, boolean isRootDevice, boolean isReadOnly, String partuuid,
        String cacheType, String ioEngine, RateLimiter rateLimiter) implements ApiObject {
    private static final Set<String> CACHE_TYPES = Set.of("Unsafe", "Writeback");
    private static final Set<String> IO_ENGINES = Set.of("Sync", "Async");

    public static Drive of(String driveId, String pathOnHost, boolean isRootDevice, boolean isReadOnly) {
        return new Drive(driveId, pathOnHost, isRootDevice, isReadOnly, null, null, null, null);
    }

    void validate(String field, Validation v) {
        v.id(field + ".driveId", driveId);
        v.check(pathOnHost != null && !pathOnHost.isBlank(), field + ".pathOnHost is required");
        v.check(cacheType == null || CACHE_TYPES.contains(cacheType),
                field + ".cacheType must be Unsafe or Writeback; found '" + cacheType + "'");
        v.check(ioEngine == null || IO_ENGINES.contains(ioEngine),
                field + ".ioEngine must be Sync or Async; found '" + ioEngine + "'");
        if (rateLimiter != null) {
            rateLimiter.validate(field + ".rateLimiter", v);
        }
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("drive_id", driveId).put("path_on_host", pathOnHost)
                .put("is_root_device", isRootDevice).put("is_read_only", isReadOnly).put("partuuid", partuuid)
                .put("cache_type", cacheType).put("io_engine", ioEngine)
                .put("rate_limiter", rateLimiter == null ? null : rateLimiter.toPayload()).build();
    }
}

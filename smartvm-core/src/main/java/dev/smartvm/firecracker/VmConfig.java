package dev.smartvm.firecracker;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A whole Firecracker-shaped VM configuration. Immutable: the lists are copied, so later
 * changes to the caller's lists never leak in. Nothing is checked on construction;
 * {@link #validate()} reports every problem at once.
 */
public record VmConfig(BootSource bootSource, MachineConfig machineConfig, List<Drive> drives,
        List<NetworkInterface> networkInterfaces, Vsock vsock, Balloon balloon, MmdsConfig mmds, Logger logger,
        Metrics metrics, EntropyDevice entropy, SerialDevice serial) {
    public VmConfig {
        drives = drives == null ? List.of() : List.copyOf(drives);
        networkInterfaces = networkInterfaces == null ? List.of() : List.copyOf(networkInterfaces);
    }

    /** The devices every VM has; no balloon, MMDS, logger, metrics, entropy or serial settings. */
    public VmConfig(BootSource bootSource, MachineConfig machineConfig, List<Drive> drives,
            List<NetworkInterface> networkInterfaces, Vsock vsock) {
        this(bootSource, machineConfig, drives, networkInterfaces, vsock, null, null, null, null, null, null);
    }

    /**
     * {@link #validate()}, and also that every field set is known to {@code version}: Firecracker
     * refuses a field it does not know, so one newer than the target release is an error here,
     * before anything is sent.
     */
    public ValidationResult validateFor(FirecrackerVersion version, FieldSupport support) {
        Validation v = new Validation();
        validate().errors().forEach(e -> v.check(false, e));
        for (Part part : parts()) {
            gate(v, support, version, part.field(), part.definition(), part.payload());
        }
        if (serial != null) {
            v.check(support.supports("PUT /serial", version), "serial needs Firecracker "
                    + support.firstRelease("PUT /serial").map(Object::toString).orElse("newer") + " or newer; the target is " + version);
        }
        return v.result();
    }

    /** One configured object: where it is in this config, which API definition it is, its payload. */
    private record Part(String field, String definition, java.util.Map<String, Object> payload) {
    }

    private static void add(List<Part> parts, String field, String definition, ApiObject object) {
        if (object != null) {
            parts.add(new Part(field, definition, object.toPayload()));
        }
    }

    private List<Part> parts() {
        List<Part> parts = new ArrayList<>();
        add(parts, "bootSource", "BootSource", bootSource);
        add(parts, "machineConfig", "MachineConfiguration", machineConfig);
        for (int i = 0; i < drives.size(); i++) {
            parts.add(new Part("drives[" + i + "]", "Drive", drives.get(i).toPayload()));
        }
        for (int i = 0; i < networkInterfaces.size(); i++) {
            parts.add(new Part("networkInterfaces[" + i + "]", "NetworkInterface", networkInterfaces.get(i).toPayload()));
        }
        add(parts, "vsock", "Vsock", vsock);
        add(parts, "balloon", "Balloon", balloon);
        add(parts, "mmds", "MmdsConfig", mmds);
        add(parts, "logger", "Logger", logger);
        add(parts, "metrics", "Metrics", metrics);
        add(parts, "entropy", "EntropyDevice", entropy);
        add(parts, "serial", "SerialDevice", serial);
        return parts;
    }

    /** Nested payload objects ("Definition.field") and the API definition each one is. */
    private static final java.util.Map<String, String> NESTED = java.util.Map.of(
            "Drive.rate_limiter", "RateLimiter", "NetworkInterface.rx_rate_limiter", "RateLimiter",
            "NetworkInterface.tx_rate_limiter", "RateLimiter", "EntropyDevice.rate_limiter", "RateLimiter",
            "SerialDevice.rate_limiter", "TokenBucket", "RateLimiter.bandwidth", "TokenBucket", "RateLimiter.ops", "TokenBucket");

    private static void gate(Validation v, FieldSupport support, FirecrackerVersion version, String field,
            String definition, java.util.Map<String, Object> payload) {
        for (var e : payload.entrySet()) {
            String item = definition + "." + e.getKey();
            v.check(support.supports(item, version), field + "." + e.getKey() + " needs Firecracker "
                    + support.firstRelease(item).map(Object::toString).orElse("newer") + " or newer; the target is " + version);
            if (e.getValue() instanceof java.util.Map<?, ?> nested && NESTED.containsKey(item)) {
                @SuppressWarnings("unchecked")
                java.util.Map<String, Object> inner = (java.util.Map<String, Object>) nested;
                gate(v, support, version, field + "." + e.getKey(), NESTED.get(item), inner);
            }
        }
    }

    public ValidationResult validate() {
        Validation v = new Validation();
        if (bootSource == null) {
            v.check(false, "bootSource is required");
        } else {
            bootSource.validate(v);
        }
        if (machineConfig == null) {
            v.check(false, "machineConfig is required");
        } else {
            machineConfig.validate(v);
        }
        List<String> roots = new ArrayList<>();
        Set<String> driveIds = new HashSet<>();
        for (int i = 0; i < drives.size(); i++) {
            Drive d = drives.get(i);
            d.validate("drives[" + i + "]", v);
            v.check(d.driveId() == null || driveIds.add(d.driveId()), "drives[" + i + "].driveId '" + d.driveId() + "' is used twice");
            if (d.isRootDevice()) {
                roots.add(d.driveId());
            }
        }
        v.check(roots.size() <= 1, "drives: at most one may be the root device; found " + roots.size() + " " + roots);
        Set<String> ifaceIds = new HashSet<>();
        Set<String> taps = new HashSet<>();
        for (int i = 0; i < networkInterfaces.size(); i++) {
            NetworkInterface n = networkInterfaces.get(i);
            n.validate("networkInterfaces[" + i + "]", v);
            v.check(n.ifaceId() == null || ifaceIds.add(n.ifaceId()),
                    "networkInterfaces[" + i + "].ifaceId '" + n.ifaceId() + "' is used twice");
            v.check(n.hostDevName() == null || taps.add(n.hostDevName()),
                    "networkInterfaces[" + i + "].hostDevName '" + n.hostDevName() + "' is used twice");
        }
        if (vsock != null) {
            vsock.validate(v);
        }
        if (balloon != null) {
            balloon.validate(v);
        }
        if (mmds != null) {
            mmds.validate(v);
            for (String id : mmds.networkInterfaces()) {
                v.check(ifaceIds.contains(id), "mmds.networkInterfaces names '" + id + "', which is not a configured interface");
            }
        }
        if (logger != null) {
            logger.validate(v);
        }
        if (metrics != null) {
            metrics.validate(v);
        }
        if (entropy != null) {
            entropy.validate(v);
        }
        if (serial != null) {
            serial.validate(v);
        }
        return v.result();
    }
}

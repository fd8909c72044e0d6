package dev.smartvm.firecracker;

import java.util.Map;
import java.util.Set;

/**
 * vCPUs, memory and CPU features ({@code PUT /machine-config}). Optional fields are null when
 * not set, and are then not sent.
 *
 * @param hugePages {@code None} or {@code 2M}
 */
public record MachineConfig(int vcpuCount, int memSizeMib, Boolean smt, String cpuTemplate, String hugePages,
        Boolean trackDirtyPages) implements ApiObject {
    public static final int MAX_VCPUS = 32;
    private static final Set<String> HUGE_PAGES = Set.of("None", "2M");

    public static MachineConfig of(int vcpuCount, int memSizeMib) {
        return new MachineConfig(vcpuCount, memSizeMib, null, null, null, null);
    }

    void validate(Validation v) {
        v.check(vcpuCount >= 1 && vcpuCount <= MAX_VCPUS,
                "machineConfig.vcpuCount must be between 1 and " + MAX_VCPUS + "; found " + vcpuCount);
        v.check(!(Boolean.TRUE.equals(smt) && vcpuCount > 1 && vcpuCount % 2 != 0),
                "machineConfig.vcpuCount must be 1 or even when smt is enabled; found " + vcpuCount);
        v.check(memSizeMib >= 1, "machineConfig.memSizeMib must be >= 1; found " + memSizeMib);
        v.check(hugePages == null || HUGE_PAGES.contains(hugePages),
                "machineConfig.hugePages must be None or 2M; found '" + hugePages + "'");
        v.check(!("2M".equals(hugePages) && memSizeMib % 2 != 0),
                "machineConfig.memSizeMib must be a multiple of 2 with 2M huge pages; found " + memSizeMib);
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("vcpu_count", vcpuCount).put("mem_size_mib", memSizeMib).put("smt", smt)
                .put("cpu_template", cpuTemplate).put("huge_pages", hugePages).put("track_dirty_pages", trackDirtyPages)
                .build();
    }
}

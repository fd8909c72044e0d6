package dev.smartvm.config;

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
        List<NetworkInterface> networkInterfaces, Vsock vsock) {
    public VmConfig {
        drives = drives == null ? List.of() : List.copyOf(drives);
        networkInterfaces = networkInterfaces == null ? List.of() : List.copyOf(networkInterfaces);
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
        return v.result();
    }
}

package dev.smartvm.internal.vm;

import dev.smartvm.AdmissionPolicy;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.HostUser;
import dev.smartvm.internal.host.VmmLabel;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.LockFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Applies the {@link AdmissionPolicy} to a VM about to start. What runs is counted from the
 * VMMs' labels ({@link VmmLabel}) and the records beside them, host-wide; a host lock is held
 * from the count until the new VMM carries its own label, so two starts cannot both take the
 * last place.
 */
public final class Admission {
    private final AdmissionPolicy policy;

    public Admission(AdmissionPolicy policy) {
        this.policy = policy;
    }

    /** Admits the VM or throws HOST_OVERCOMMITTED; the returned lock is to be closed once its VMM is launched. */
    public LockFile admit(String vmName, int cpus, int memoryMib) {
        LockFile lock = LockFile.acquire(lockFile());
        try {
            int runningVcpus = 0;
            long runningMemory = 0;
            for (Path dir : VmmLabel.labelledDirs()) {
                VmRecord r = readRecord(dir);
                if (r != null) {
                    runningVcpus += r.spec().cpus();
                    runningMemory += r.spec().memoryMib();
                }
            }
            String why = policy.refusal(Runtime.getRuntime().availableProcessors(), hostMemoryMib(), runningVcpus, runningMemory,
                    cpus, memoryMib);
            if (why != null) {
                throw new SmartVmException(ErrorCode.HOST_OVERCOMMITTED, "VM '" + vmName + "' (" + cpus + " vCPU, "
                        + memoryMib + " MiB) may not start: " + why + "; stop a VM, or raise the limit"
                        + " ($SMARTVM_MAX_VCPUS_PER_CORE, $SMARTVM_MAX_MEMORY_PERCENT, 0 for none)");
            }
            return lock;
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    private static VmRecord readRecord(Path dir) {
        try {
            return Json.read(dir.resolve("vm.json"), VmRecord.class);
        } catch (SmartVmException e) {
            return null; // removed meanwhile, or not a VM of a version we read
        }
    }

    /** Host-wide for root (whose VMs every root process sees); per user otherwise. */
    private static Path lockFile() {
        return HostUser.isRoot() ? Path.of("/run/smartvm/admission.lock")
                : Path.of(System.getProperty("java.io.tmpdir"), "smartvm-admission-" + System.getProperty("user.name") + ".lock");
    }

    private static long hostMemoryMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no meminfo: no memory limit can be applied
        }
        return Long.MAX_VALUE / 200;
    }
}

package dev.smartvm;

/**
 * How much of the host the VMs running on it may commit, checked before each VM starts (the
 * start fails with {@link ErrorCode#HOST_OVERCOMMITTED} instead of booting on a host that cannot
 * carry it). Counted host-wide over every VMM SmartVM started, whatever its home.
 *
 * @param maxVcpusPerCore vCPUs of all running VMs per host core; 0 for no limit
 * @param maxMemoryPercent guest RAM of all running VMs, in percent of the host's memory; 0 for no limit
 */
public record AdmissionPolicy(double maxVcpusPerCore, int maxMemoryPercent) {
    /** 8 vCPUs per core (16 one-vCPU VMs on a 2-core host) and 90 % of the memory. */
    public static final AdmissionPolicy DEFAULT = new AdmissionPolicy(8, 90);
    /** No limit: every start is attempted. */
    public static final AdmissionPolicy UNLIMITED = new AdmissionPolicy(0, 0);

    public AdmissionPolicy {
        if (maxVcpusPerCore < 0 || Double.isNaN(maxVcpusPerCore) || maxMemoryPercent < 0) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "admission limits must be 0 (none) or positive; found "
                    + maxVcpusPerCore + " vCPUs per core and " + maxMemoryPercent + " % of memory");
        }
    }

    /**
     * {@code $SMARTVM_MAX_VCPUS_PER_CORE} and {@code $SMARTVM_MAX_MEMORY_PERCENT} where set (0
     * turns a limit off), else the defaults.
     */
    public static AdmissionPolicy fromEnvironment() {
        return new AdmissionPolicy(number("SMARTVM_MAX_VCPUS_PER_CORE", DEFAULT.maxVcpusPerCore()),
                (int) number("SMARTVM_MAX_MEMORY_PERCENT", DEFAULT.maxMemoryPercent()));
    }

    private static double number(String variable, double fallback) {
        String v = System.getenv(variable);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "$" + variable + " must be a number; found '" + v + "'");
        }
    }

    /**
     * Why a VM of {@code cpus} and {@code memoryMib} may not start next to what runs already, or
     * null when it may.
     */
    public String refusal(int hostCores, long hostMemoryMib, int runningVcpus, long runningMemoryMib, int cpus, int memoryMib) {
        if (maxVcpusPerCore > 0 && runningVcpus + cpus > maxVcpusPerCore * hostCores) {
            return "it would make " + (runningVcpus + cpus) + " vCPUs on " + hostCores + " cores, over the limit of "
                    + fmt(maxVcpusPerCore) + " per core (" + runningVcpus + " already run)";
        }
        if (maxMemoryPercent > 0 && (runningMemoryMib + memoryMib) * 100 > hostMemoryMib * maxMemoryPercent) {
            return "it would give VMs " + (runningMemoryMib + memoryMib) + " MiB of the host's " + hostMemoryMib
                    + " MiB, over the limit of " + maxMemoryPercent + " % (" + runningMemoryMib + " MiB already given)";
        }
        return null;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}

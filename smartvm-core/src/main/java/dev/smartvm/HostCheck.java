package dev.smartvm;

/**
 * One thing SmartVM needs or uses on this host ({@link SmartVm#checkHost}).
 *
 * @param status {@code ok}; {@code missing} (required, absent: VMs cannot run); {@code warn}
 *     (optional, absent: a feature is off); {@code info} (what will be used)
 * @param what what was checked (qemu, kvm, nft...)
 * @param detail what was found
 * @param fix how to fix it, or null
 */
public record HostCheck(String status, String what, String detail, String fix) {
    public boolean isProblem() {
        return status.equals("missing");
    }
}

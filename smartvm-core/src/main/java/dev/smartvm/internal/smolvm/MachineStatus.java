package dev.smartvm.internal.smolvm;

/**
 * One machine as {@code smolvm machine ls --json} / {@code status --json} describe it.
 *
 * @param state {@code created}, {@code running}, {@code stopped}, {@code failed}, {@code unreachable} or {@code frozen}
 * @param pid the VM's process id, or 0 when none runs
 */
public record MachineStatus(String name, String state, int cpus, int memoryMib, long pid, String image) {
    public boolean running() {
        return "running".equals(state);
    }
}

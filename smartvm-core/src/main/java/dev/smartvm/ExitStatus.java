package dev.smartvm;

/**
 * How a guest command ended.
 *
 * @param code the exit code; 128+N when killed by signal N; 124 when its timeout killed it;
 *     127 when the command was not found, 126 when it could not be executed
 * @param signal the signal that killed it, or 0
 * @param timedOut whether the exec's timeout killed it
 */
public record ExitStatus(int code, int signal, boolean timedOut) {
    public boolean success() {
        return code == 0;
    }
}

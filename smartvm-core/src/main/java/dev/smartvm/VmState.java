package dev.smartvm;

/** Where a VM is in its life. Legal moves are listed in {@link #canMoveTo(VmState)}. */
public enum VmState {
    CREATED,
    STARTING,
    RUNNING,
    PAUSED,
    STOPPING,
    STOPPED,
    /** Closed and its resources released; nothing more can be done with it. */
    REMOVED;

    public boolean canMoveTo(VmState next) {
        return switch (this) {
            case CREATED -> next == STARTING || next == REMOVED;
            // back to CREATED: a first start that failed before any VMM ran
            case STARTING -> next == RUNNING || next == STOPPING || next == STOPPED || next == CREATED;
            case RUNNING -> next == PAUSED || next == STOPPING || next == STOPPED;
            case PAUSED -> next == RUNNING || next == STOPPING || next == STOPPED;
            case STOPPING -> next == STOPPED;
            case STOPPED -> next == STARTING || next == REMOVED;
            case REMOVED -> false;
        };
    }

    /** True while a VMM process exists for the VM. */
    public boolean isActive() {
        return this == STARTING || this == RUNNING || this == PAUSED || this == STOPPING;
    }
}

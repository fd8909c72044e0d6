package dev.smartvm;

/**
 * Something on the host that no live owner holds any more, as {@link SmartVm#collectGarbage}
 * finds it: what a process that died, or a step cut short, left behind.
 *
 * @param kind what it is
 * @param name which one: a VM's name, a path, a device, a chain, an address or a host port
 * @param reason why nothing holds it
 * @param failure why it could not be removed; null when it was (or, in a dry run, would be)
 */
public record Leftover(Kind kind, String name, String reason, String failure) {
    public enum Kind {
        /** A VM whose owning process died (removed), or whose start was abandoned (stopped). */
        VM,
        /** A VMM process whose VM directory is gone (its home deleted with the VM running). */
        VMM,
        /** A VM directory without a record: a creation or removal cut short. */
        VM_DIRECTORY,
        /** A half-made snapshot or template whose maker died. */
        PARTIAL_SAVE,
        /** A socket file of a VM whose VMM is gone. */
        SOCKET,
        /** A lock file of an image that is no longer cached. */
        LOCK,
        /** A TAP device no attached VM holds. */
        TAP,
        /** An nft chain or set of a VM that holds no address. */
        NFT_RULES,
        /** An address leased to a VM that is not running. */
        LEASE,
        /** A host port published for a VM that is not running. */
        PORT,
        /** The VM bridge (and its NAT), with no VM attached to it. */
        BRIDGE,
        /** An engine's object outside the home (a Kubernetes pod, policy, service or Lease) whose owner died. */
        ENGINE_OBJECT
    }

    public Leftover {
        java.util.Objects.requireNonNull(kind, "kind");
        java.util.Objects.requireNonNull(name, "name");
        java.util.Objects.requireNonNull(reason, "reason");
    }

    /** Found and not (yet) removed: for one whose removal failed. */
    public Leftover failed(String why) {
        return new Leftover(kind, name, reason, why);
    }
}

package dev.smartvm;

/** Stable codes of {@link SmartVmException}; the CLI prints them as {@code error[CODE]}. */
public enum ErrorCode {
    /** An operation that the VM's current state does not allow (exec after stop, pause before start). */
    INVALID_STATE,
    /** No control connection to the VMM (the VM was never started). */
    NO_CLIENT,
    IP_EXHAUSTED,
    INVALID_SUBNET,
    INVALID_INTERFACE_NAME,
    INVALID_BASE_IMAGE_MANIFEST,
    BASE_IMAGE_MANIFEST_FAILED,
    INVALID_BASE_IMAGE_CACHE_LIMIT,
    /** A value given by the caller is malformed or out of range. */
    INVALID_ARGUMENT,
    /** No VM with that id or name. */
    VM_NOT_FOUND,
    /** Another VM (or snapshot) already has that name. */
    NAME_IN_USE,
    /** No snapshot with that name. */
    SNAPSHOT_NOT_FOUND,
    /** No template with that name. */
    TEMPLATE_NOT_FOUND,
    /** The template has clones (VMs started from it, running or not): remove them first. */
    TEMPLATE_IN_USE,
    /** A command that prepares a template failed (non-zero exit); the template was not made. */
    PREPARE_FAILED,
    /** The image reference names nothing we can find or build. */
    IMAGE_NOT_FOUND,
    /** Building or unpacking an image failed. */
    IMAGE_BUILD_FAILED,
    /** The host lacks a program or device SmartVM needs; the message says how to install it. */
    HOST_DEPENDENCY_MISSING,
    /** The VM did not come up: the VMM failed or the guest agent never answered. */
    BOOT_FAILED,
    /** A sandbox's readiness check (a command, a port, a console line) did not pass in time. */
    NOT_READY,
    /** The VM stopped underneath an operation (guest panic, VMM crash, external kill). */
    VM_STOPPED,
    /** The guest agent reported an error for a request. */
    AGENT_ERROR,
    /** The guest sent something that breaks the agent protocol. */
    AGENT_PROTOCOL,
    /** A path does not exist on the side it was looked up. */
    PATH_NOT_FOUND,
    /** A path from the guest would escape the destination on the host. */
    UNSAFE_PATH,
    /** The VM's backend cannot do this (smolvm has no pause, for one); the message says what it can do instead. */
    UNSUPPORTED,
    /** The VMM refused or failed a control command. */
    VMM_ERROR,
    /** An operation did not finish within its timeout. */
    TIMEOUT,
    /** A download failed (unreachable server, HTTP error, truncated body). */
    DOWNLOAD_FAILED,
    /** Downloaded or cached bytes do not match their published checksum. */
    CHECKSUM_MISMATCH,
    /** No DNS server answered for a hostname (of an egress rule). */
    DNS_FAILED,
    /**
     * A command's collected output (stdout and stderr together) went past the limit of a
     * collecting exec; the command was killed. Stream large output instead.
     */
    OUTPUT_TOO_LARGE,
    /** Starting the VM would take more memory or CPU than the host's admission policy allows. */
    HOST_OVERCOMMITTED,
    /** A host I/O operation failed. */
    IO_ERROR,
    /** The engine's control plane refused for lack of permission (a Kubernetes namespace without the needed RBAC). */
    PERMISSION_DENIED,
    /** The calling thread was interrupted. */
    INTERRUPTED
}

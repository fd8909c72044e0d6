package dev.smartvm;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A running VM's files, through its guest agent ({@link MicroVm#files()}). Paths are absolute
 * guest paths. Every call is one request: many can run at once, and each fails with
 * {@code VM_STOPPED} or {@code INVALID_STATE} once the VM is not running. A guest error is a
 * {@code SmartVmException}: {@code PATH_NOT_FOUND} for a missing path, {@code INVALID_ARGUMENT}
 * for the wrong kind of file (a directory to read, a non-empty directory to remove without
 * {@code recursive}), {@code AGENT_ERROR} for anything else the guest refused, with its reason.
 */
public interface GuestFiles {
    /** What {@link #readBytes} reads at most: stream larger files with {@link MicroVm#copyFrom}. */
    long MAX_READ = 64L * 1024 * 1024;

    /**
     * A regular file's bytes (symlinks followed).
     *
     * @throws SmartVmException OUTPUT_TOO_LARGE beyond {@link #MAX_READ}
     */
    byte[] readBytes(String path);

    default String readString(String path) {
        return new String(readBytes(path), StandardCharsets.UTF_8);
    }

    /**
     * Writes a regular file (mode 0644), replacing it whole once written (readers see the old
     * file or the new one, never half). Its directory must exist ({@link #mkdirs}).
     */
    void write(String path, byte[] data);

    default void writeString(String path, String text) {
        write(path, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A directory's entries (not {@code .} and {@code ..}), sorted by name; at most 100,000. */
    List<FileEntry> list(String directory);

    /** What is at {@code path}; a symlink is described, not followed. */
    FileEntry stat(String path);

    /** Whether anything (a dangling symlink too) is at {@code path}. */
    boolean exists(String path);

    /** Creates the directory and its missing parents (mode 0755), like {@code mkdir -p}. */
    void mkdirs(String path);

    /** Removes a file, symlink or empty directory; with {@code recursive}, a whole tree (never {@code /}). */
    void remove(String path, boolean recursive);

    /** Renames (moves) within the guest, replacing a file at {@code to}, like {@code rename(2)}. */
    void rename(String from, String to);

    /**
     * Watches a directory (with {@code recursive}, also those under it, and those made later)
     * until the watch is closed or the directory goes away. Events are queued until read.
     *
     * @throws SmartVmException PATH_NOT_FOUND for a missing directory; INVALID_ARGUMENT for a file
     */
    FileWatch watch(String directory, boolean recursive);
}

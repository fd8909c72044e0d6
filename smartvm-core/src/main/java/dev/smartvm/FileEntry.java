package dev.smartvm;

import java.time.Instant;

/**
 * A guest file, directory, symlink or other node, as {@link GuestFiles#list} and
 * {@link GuestFiles#stat} describe it.
 *
 * @param path absolute guest path
 * @param type what it is
 * @param size bytes (0 for a directory)
 * @param mode permission bits, setuid, setgid and sticky (07777)
 * @param modified last modification
 * @param linkTarget a symlink's target, else ""
 */
public record FileEntry(String path, Type type, long size, int mode, Instant modified, String linkTarget) {
    public enum Type { FILE, DIRECTORY, SYMLINK, OTHER }

    /** The last component of the path. */
    public String name() {
        int slash = path.lastIndexOf('/');
        return path.length() == 1 ? path : path.substring(slash + 1);
    }

    public boolean isDirectory() {
        return type == Type.DIRECTORY;
    }
}

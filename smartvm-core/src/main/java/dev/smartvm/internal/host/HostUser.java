package dev.smartvm.internal.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Who this process runs as on the host. */
public final class HostUser {
    private HostUser() {
    }

    /** True when the effective user is root (uid 0); false also when it cannot be told. */
    public static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}

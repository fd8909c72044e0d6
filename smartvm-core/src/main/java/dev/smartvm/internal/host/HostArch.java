package dev.smartvm.internal.host;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.Locale;

/** The host's CPU architecture as kernels and VMM releases name it: {@code x86_64} or {@code aarch64}. */
public final class HostArch {
    private HostArch() {
    }

    public static String name() {
        String a = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        return switch (a) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "SmartVM does not support the " + a
                    + " architecture (x86_64 and aarch64 only)");
        };
    }
}

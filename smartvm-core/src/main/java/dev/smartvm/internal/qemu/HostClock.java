package dev.smartvm.internal.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The host's TSC rate. Under TCG the guest's TSC runs at the host's rate, and a guest kernel
 * that must calibrate it against the emulated PIT fails on a busy host and then hangs at boot
 * (seen as "tsc: Marking TSC unstable due to could not calculate TSC khz"). Telling it the rate
 * with {@code tsc_early_khz=} removes the calibration.
 */
public final class HostClock {
    private HostClock() {
    }

    /** The TSC rate of this host, from /proc/cpuinfo. */
    public static OptionalLong tscKhz() {
        return tscKhz(Path.of("/proc/cpuinfo"));
    }

    static OptionalLong tscKhz(Path cpuinfo) {
        try {
            for (String line : Files.readAllLines(cpuinfo)) {
                if (line.startsWith("cpu MHz")) {
                    double mhz = Double.parseDouble(line.substring(line.indexOf(':') + 1).strip());
                    return mhz > 0 ? OptionalLong.of(Math.round(mhz * 1000)) : OptionalLong.empty();
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no hint: the guest calibrates by itself
        }
        return OptionalLong.empty();
    }
}

package dev.smartvm.internal.qemu;

import dev.smartvm.Acceleration;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.Kvm;
import dev.smartvm.internal.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * Decides KVM or TCG. AUTO takes KVM only where a real boot under KVM reached the guest agent;
 * /dev/kvm can exist and still be unusable (nested PVM, where a stock guest kernel hangs).
 * The verdict of a probe boot is cached per host kernel.
 */
public final class AccelerationProbe {
    /** The decision and why. {@code fresh} is true when it was not taken from the cache. */
    public record Verdict(Acceleration acceleration, String reason, boolean fresh) {
    }

    record Cached(String hostKernel, Acceleration acceleration, String reason, boolean probed) {
    }

    private final Path kvmDevice;
    private final Path sysModules;
    private final Path cacheFile;

    public AccelerationProbe(Path kvmDevice, Path sysModules, Path cacheFile) {
        this.kvmDevice = kvmDevice;
        this.sysModules = sysModules;
        this.cacheFile = cacheFile;
    }

    public static AccelerationProbe forHost(Path cacheFile) {
        return new AccelerationProbe(Path.of("/dev/kvm"), Path.of("/sys/module"), cacheFile);
    }

    /** What the host's KVM looks like without booting anything; null when a probe boot must decide. */
    public String kvmUnusableReason() {
        String unusable = Kvm.unusableReason(kvmDevice);
        if (unusable != null) {
            return unusable;
        }
        if (Files.exists(sysModules.resolve("kvm_pvm"))) {
            return "KVM here is nested PVM (kvm_pvm), under which a stock guest kernel hangs";
        }
        return null;
    }

    public Verdict decide(Acceleration requested, BooleanSupplier kvmBootProbe) {
        if (requested == Acceleration.TCG) {
            return new Verdict(Acceleration.TCG, "TCG was requested", false);
        }
        String unusable = kvmUnusableReason();
        if (requested == Acceleration.KVM) {
            if (!Files.exists(kvmDevice)) {
                throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING,
                        "KVM was requested but " + kvmDevice + " does not exist; use --accel tcg or auto");
            }
            return new Verdict(Acceleration.KVM, "KVM was requested", false);
        }
        String hostKernel = hostKernel();
        Cached cached = Files.isRegularFile(cacheFile) ? Json.read(cacheFile, Cached.class) : null;
        if (unusable != null) {
            return remember(cached, new Cached(hostKernel, Acceleration.TCG, unusable, false));
        }
        if (cached != null && cached.probed() && hostKernel.equals(cached.hostKernel())) {
            return new Verdict(cached.acceleration(), cached.reason(), false);
        }
        boolean works = kvmBootProbe.getAsBoolean();
        return remember(cached, works
                ? new Cached(hostKernel, Acceleration.KVM, "a probe boot under KVM reached the guest agent", true)
                : new Cached(hostKernel, Acceleration.TCG, "a probe boot under KVM did not reach the guest agent", true));
    }

    /** Stores a verdict; it is fresh (worth a notice) when it differs from the one cached. */
    private Verdict remember(Cached previous, Cached now) {
        boolean fresh = !now.equals(previous);
        if (fresh) {
            Json.write(cacheFile, now);
        }
        return new Verdict(now.acceleration(), now.reason(), fresh);
    }

    private static String hostKernel() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (java.io.IOException e) {
            return System.getProperty("os.version");
        }
    }
}

package dev.smartvm.internal.host;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether this process can use KVM: /dev/kvm exists and is readable and writable. */
public final class Kvm {
    public static final Path DEVICE = Path.of("/dev/kvm");

    private Kvm() {
    }

    /** Why {@code device} cannot be used, or null when it can. */
    public static String unusableReason(Path device) {
        if (!Files.exists(device)) {
            return "this host has no " + device + " (enable virtualization, or nested virtualization in a VM)";
        }
        if (!Files.isReadable(device) || !Files.isWritable(device)) {
            return "no read and write access to " + device + "; add your user to the kvm group (sudo usermod -aG kvm $USER)"
                    + " and log in again";
        }
        return null;
    }

    /** HOST_DEPENDENCY_MISSING, saying why, unless KVM can be used; {@code engine} is who needs it. */
    public static void require(String engine) {
        String why = unusableReason(DEVICE);
        if (why != null) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, engine + " needs KVM: " + why
                    + "; the qemu backend runs without it");
        }
    }
}

package dev.smartvm;

/** How the VMM executes guest code. {@code AUTO} uses KVM only where a probe proved it works. */
public enum Acceleration {
    AUTO,
    KVM,
    TCG;

    public static Acceleration parse(String text) {
        for (Acceleration a : values()) {
            if (a.name().equalsIgnoreCase(text)) {
                return a;
            }
        }
        throw new SmartVmException(ErrorCode.INVALID_ARGUMENT,
                "acceleration must be one of auto, kvm, tcg; found '" + text + "'");
    }
}

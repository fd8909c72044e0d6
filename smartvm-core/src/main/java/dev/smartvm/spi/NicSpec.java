package dev.smartvm.spi;

import java.util.List;

/**
 * The VM's network interface: a TAP device on the host (bridge mode), or QEMU's user-mode
 * network (tap null: isolated, only the published ports reach in); the guest MAC; and what the
 * kernel command line must say for the agent to configure the guest's eth0.
 *
 * @param hostForwards user mode only: the host ports QEMU forwards into the guest
 */
public record NicSpec(String tap, String mac, String kernelArgs, List<PortForward> hostForwards) {
    public NicSpec {
        hostForwards = hostForwards == null ? List.of() : List.copyOf(hostForwards);
    }

    public NicSpec(String tap, String mac, String kernelArgs) {
        this(tap, mac, kernelArgs, List.of());
    }

    public boolean userMode() {
        return tap == null;
    }

    /** The {@code ip=} value of the kernel arguments ({@code ADDR::GATEWAY:NETMASK::DEV:off}), or null. */
    public String ipConfig() {
        for (String arg : kernelArgs.split(" ")) {
            if (arg.startsWith("ip=")) {
                return arg.substring(3);
            }
        }
        return null;
    }
}

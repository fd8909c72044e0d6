package dev.smartvm.internal.vm;

import dev.smartvm.SmartVmException;
import dev.smartvm.internal.net.HostNetwork;
import dev.smartvm.internal.net.HostnamePins;
import dev.smartvm.spi.Guest;

/**
 * What a VM holds while it runs (its guest connection, the resolution of its hostnames, its host
 * network), taken out of its lifecycle under the monitor, to be given back outside it.
 */
record HeldResources(Guest agent, HostnamePins pins, HostNetwork.Attachment network) {
    /** Closes and releases all of it; {@code cause} (or null) is what waiting callers of the agent see. */
    void giveBack(VmContext context, String vmId, SmartVmException cause) {
        if (agent != null) {
            if (cause != null) {
                agent.close(cause);
            } else {
                agent.close();
            }
        }
        if (pins != null) {
            pins.close();
        }
        if (network != null) {
            uninterruptibly(() -> context.network().detach(vmId, network.tap(), network.ip()));
        }
    }

    /** Cleanup must complete even when the caller was interrupted: the flag is set aside, then restored. */
    static void uninterruptibly(Runnable cleanup) {
        boolean interrupted = Thread.interrupted();
        try {
            cleanup.run();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

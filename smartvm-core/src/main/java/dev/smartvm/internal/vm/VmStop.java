package dev.smartvm.internal.vm;

import dev.smartvm.SmartVmException;
import dev.smartvm.spi.Guest;
import dev.smartvm.spi.VmmProcess;
import java.time.Duration;

/** One stop of a VM: the guest asked to power off (if it may), the VMM forced down if it lingers, then recorded. */
final class VmStop {
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);
    private final VmLifecycle life;

    /** What a stop works on. */
    record Stopping(VmmProcess process, Guest agent, boolean graceful, String name) {
    }

    VmStop(VmLifecycle life) {
        this.life = life;
    }

    void run(boolean powerOff) {
        VmmProcess running = life.activeVmm();
        if (running != null) {
            running.checkCanStop(); // refused before the VM is marked stopping
        }
        Stopping s = life.beginStop(powerOff);
        HeldResources.uninterruptibly(() -> {
            try {
                if (s.process() != null) {
                    if (s.graceful()) {
                        askToPowerOff(s.process(), s.agent(), s.name());
                    }
                    if (!s.graceful() || !s.process().awaitExit(SHUTDOWN_GRACE)) {
                        s.process().terminate(Duration.ofSeconds(2));
                    }
                }
            } finally {
                life.finishStop(s.process());
            }
        });
    }

    private static void askToPowerOff(VmmProcess process, Guest client, String name) {
        try {
            (client != null && client.isOpen() ? client : GuestLink.connect(process, Duration.ofSeconds(5), name)).shutdown();
        } catch (SmartVmException e) {
            // no agent to ask: the VMM is stopped the hard way
        }
    }
}

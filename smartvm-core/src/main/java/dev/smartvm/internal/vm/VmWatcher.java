package dev.smartvm.internal.vm;

import dev.smartvm.internal.host.ConsoleWatch;
import dev.smartvm.spi.VmmProcess;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Waits for a VMM to exit, whoever caused it, and then reports it. A guest whose console shows
 * a kernel panic but whose VMM lingers (so that nothing waiting on it would ever return) is
 * terminated after a grace period.
 */
public final class VmWatcher {
    public static final Duration PANIC_GRACE = Duration.ofSeconds(5);

    private VmWatcher() {
    }

    public static void watch(VmmProcess process, Path consoleLog, String vmId, Runnable onExit) {
        Thread.ofVirtual().name("smartvm-watch-" + vmId).start(() -> {
            ConsoleWatch console = new ConsoleWatch(consoleLog);
            long panicAt = 0;
            while (!process.awaitExit(Duration.ofSeconds(1))) {
                if (panicAt == 0 && console.sawPanic()) {
                    panicAt = System.nanoTime();
                } else if (panicAt != 0 && System.nanoTime() - panicAt > PANIC_GRACE.toNanos()) {
                    process.terminate(Duration.ofSeconds(2));
                }
            }
            onExit.run();
        });
    }
}

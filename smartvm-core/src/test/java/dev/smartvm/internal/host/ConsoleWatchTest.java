package dev.smartvm.internal.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConsoleWatchTest {
    @Test
    void noticesAPanicEvenWhenItArrivesInPieces(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("console.log");
        ConsoleWatch watch = new ConsoleWatch(log);
        assertThat(watch.sawPanic()).as("no file yet").isFalse();
        Files.writeString(log, "[    1.0] booting\nsmartvm-agent: ready\n[    1.6] Kernel pan");
        assertThat(watch.sawPanic()).isFalse();
        Files.writeString(log, "ic - not syncing: sysrq triggered crash\n", StandardOpenOption.APPEND);
        assertThat(watch.sawPanic()).isTrue();
    }
}

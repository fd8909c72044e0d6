package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * 32 threads of this JVM and 4 processes of their own make, use and remove VMs on one home at
 * once: names stay unique, every VM does what it is asked, and nothing is left.
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class ConcurrencyIT extends RealVmTest {
    @TempDir
    Path scratch;

    @Test
    void threadsAndProcessesShareAHome() throws Exception {
        List<Process> processes = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            processes.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), VmChurn.class.getName(),
                    home.toString(), sharedImages().toString(), "proc" + p, "2")
                    .redirectErrorStream(true).redirectOutput(scratch.resolve("proc" + p + ".log").toFile()).start());
        }
        ExecutorService pool = Executors.newFixedThreadPool(32);
        List<Future<?>> threads = new ArrayList<>();
        for (int t = 0; t < 32; t++) {
            String name = "thread" + t;
            threads.add(pool.submit(() -> {
                VmChurn.once(svm, name, scratch);
                return null;
            }));
        }
        pool.shutdown();
        for (Future<?> f : threads) {
            f.get(); // rethrows what went wrong in a thread
        }
        for (int p = 0; p < processes.size(); p++) {
            Process proc = processes.get(p);
            assertThat(proc.waitFor(10, TimeUnit.MINUTES)).isTrue();
            String log = Files.readString(scratch.resolve("proc" + p + ".log"), StandardCharsets.UTF_8);
            assertThat(proc.exitValue()).as(log).isZero();
            assertThat(log).contains("churned");
        }
        assertThat(svm.list()).isEmpty();
    }
}

package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("integration")
class SmokeIT {
    @TempDir
    Path home;

    @Test
    void bootsAndRuns() {
        try (SmartVm svm = SmartVm.builder().home(home).imagesDir(SmartVm.Builder.defaultHome().resolve("images"))
                .notices(System.err::println).build();
                MicroVm vm = svm.start(VmSpec.builder().build())) {
            long t0 = System.nanoTime();
            ExecResult r = vm.exec("uname", "-a");
            System.err.println("exec took " + (System.nanoTime() - t0) / 1e6 + " ms: " + r.stdout() + r.stderr());
            assertThat(r.exitCode()).isZero();
            assertThat(r.stdout()).contains("Linux");
        }
    }
}

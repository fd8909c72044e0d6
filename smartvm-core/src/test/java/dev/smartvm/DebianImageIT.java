package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --image debian}: a Debian root filesystem made by mmdebstrap with python3, from the
 * Debian mirror (the one network source our machines reach), cached in the shared images
 * directory, and Python run inside a VM.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class DebianImageIT extends RealVmTest {
    @Test
    void pythonRunsInTheDebianImage() {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mmdebstrap")), "mmdebstrap is not installed (bin/test installs it)");
        try (MicroVm vm = svm.start(VmSpec.builder().image("debian").memoryMib(512).build())) {
            ExecResult r = vm.exec("python3", "-c", "import sys, platform; print(6 * 7, sys.version_info[0], platform.system())");
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            assertThat(r.stdout()).isEqualTo("42 3 Linux\n");
            assertThat(vm.exec("cat", "/etc/debian_version").stdout()).startsWith("12.");
        }
    }

    @Test
    void badBuildInputsAreRefusedBeforeAnythingRuns() {
        Images images = svm.images();
        assertThatThrownBy(() -> images.buildDebian("Bookworm!", List.of("python3"), Images.DEFAULT_DEBIAN_MIRROR, false))
                .hasMessageContaining("a Debian suite is a name such as bookworm");
        assertThatThrownBy(() -> images.buildDebian("bookworm", List.of("python3; rm -rf /"), Images.DEFAULT_DEBIAN_MIRROR, false))
                .hasMessageContaining("is not a Debian package name");
        assertThatThrownBy(() -> images.buildDebian("bookworm", List.of("python3"), "ftp://x", false))
                .hasMessageContaining("a mirror is an http(s) or file: URL");
    }
}

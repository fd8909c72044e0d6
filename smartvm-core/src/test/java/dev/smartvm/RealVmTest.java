package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;

/**
 * Base of the real-VM tests: a SmartVm on a fresh home (sharing the default image cache), and
 * a check afterwards that nothing was left behind: no QEMU process, no VM directory, no socket.
 */
@Tag("integration")
@EnabledIfQemuAvailable
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class RealVmTest {
    protected Path home;
    protected SmartVm svm;

    /** The image cache shared by all tests (and by bin/smartvm): built once per machine. */
    public static Path sharedImages() {
        Path configured = SmartVm.Builder.defaultImagesDir();
        return configured != null ? configured : SmartVm.Builder.defaultHome().resolve("images");
    }

    @BeforeAll
    void openSmartVm() throws IOException {
        home = Files.createTempDirectory(Path.of("/tmp"), "svt");
        svm = SmartVm.builder().home(home).imagesDir(sharedImages()).notices(System.err::println).build();
    }

    @AfterAll
    void closeAndCheckNothingIsLeft() throws IOException {
        svm.close();
        List<String> qemus = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains(home.toString()))
                .filter(ProcessHandle::isAlive)
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .toList();
        try (Stream<Path> left = Files.exists(home.resolve("vms")) ? Files.list(home.resolve("vms")) : Stream.empty()) {
            List<Path> dirs = left.filter(Files::isDirectory).toList();
            assertThat(qemus).as("QEMU processes left behind").isEmpty();
            assertThat(dirs).as("VM directories left behind").isEmpty();
        }
        try (Stream<Path> all = Files.walk(home)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertThat(home).doesNotExist();
    }
}

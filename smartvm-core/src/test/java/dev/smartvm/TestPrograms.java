package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;

/** Small static C programs for the guest (src/test/c), compiled by the tests that need them. */
final class TestPrograms {
    private TestPrograms() {
    }

    /** Compiles {@code src/test/c/<name>.c} statically into {@code dir/<name>}. */
    static Path compile(Path dir, String name) throws IOException, InterruptedException {
        Path out = dir.resolve(name);
        Process gcc = new ProcessBuilder("gcc", "-static", "-O2", "-Wall", "-Werror", "-o", out.toString(),
                Path.of("src/test/c/" + name + ".c").toAbsolutePath().toString()).inheritIO().start();
        assertThat(gcc.waitFor()).as("gcc builds " + name).isZero();
        return out;
    }
}

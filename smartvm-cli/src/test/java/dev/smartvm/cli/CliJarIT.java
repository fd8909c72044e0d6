package dev.smartvm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The shaded CLI jar as a classpath entry: it must not break what the JVM does around it. */
@Tag("integration")
class CliJarIT {
    private static final Path JAR = Path.of("target", "smartvm-cli.jar").toAbsolutePath();

    @Test
    void namesResolveWithTheJarOnTheClasspath() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", JAR + ":" + Path.of("target", "test-classes").toAbsolutePath(),
                LookupName.class.getName(), "localhost")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("jdk 127.0.0.1", "egress [127.0.0.1]").doesNotContain("ServiceConfigurationError");
        assertThat(p.exitValue()).as(out).isZero();
    }

    @Test
    void theJarIsMultiReleaseAndLeavesTheJvmResolverAlone() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Multi-Release")).isEqualTo("true");
            assertThat(jar.getEntry("META-INF/services/java.net.spi.InetAddressResolverProvider")).isNull();
        }
    }
}

package dev.smartvm.junit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.MicroVm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Test classes that {@link SandboxExtensionIT} runs through JUnit's test kit and checks the
 * outcomes of. They run only there (the system property), never on their own.
 */
final class Samples {
    static final String ENABLED = "smartvm.junit.samples";
    /** What the samples saw: "test field id" lines, read by the IT. */
    static final List<String> SEEN = Collections.synchronizedList(new ArrayList<>());

    private Samples() {
    }

    /** A static field (the class), an instance field (each test), a parameter (one test), and a test that fails. */
    @SmartVmTest
    @EnabledIfSystemProperty(named = ENABLED, matches = "true")
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class Lifetimes {
        @Sandbox
        static MicroVm shared;

        @Sandbox(env = "GREETING=hello", readyCommand = "echo own-ready > /dev/console", readyLog = "own-ready")
        MicroVm own;

        @Test
        @Order(1)
        void first(@Sandbox(memoryMib = 192) MicroVm param) {
            SEEN.add("first shared " + shared.id());
            SEEN.add("first own " + own.id());
            SEEN.add("first param " + param.id());
            assertThat(own.exec("sh", "-c", "echo $GREETING").stdout()).isEqualTo("hello\n");
            assertThat(param.exec("sh", "-c", "grep MemTotal /proc/meminfo").stdout()).isNotEmpty();
            own.files().writeString("/tmp/mark", "first");
            shared.files().writeString("/tmp/mark", "first");
        }

        @Test
        @Order(2)
        void second() {
            SEEN.add("second shared " + shared.id());
            SEEN.add("second own " + own.id());
            assertThat(own.files().exists("/tmp/mark")).as("a fresh VM for each test").isFalse();
            assertThat(shared.files().exists("/tmp/mark")).as("one VM for the class").isTrue();
        }

        @Test
        @Order(3)
        void third() {
            SEEN.add("third own " + own.id());
            throw new AssertionError("fails on purpose");
        }
    }

    /** Checks that never pass: each test fails NOT_READY, with the console's tail. */
    @SmartVmTest
    @EnabledIfSystemProperty(named = ENABLED, matches = "true")
    static class NeverReady {
        @Test
        void command(@Sandbox(readyCommand = "test -e /never", readyTimeoutSeconds = 2) MicroVm vm) {
            SEEN.add("ran anyway");
        }

        @Test
        void port(@Sandbox(readyPort = 8080, readyTimeoutSeconds = 2) MicroVm vm) {
            SEEN.add("ran anyway");
        }

        @Test
        void log(@Sandbox(readyLog = "no such line", readyTimeoutSeconds = 2) MicroVm vm) {
            SEEN.add("ran anyway");
        }
    }

    /** A field's check that never passes. */
    @SmartVmTest
    @EnabledIfSystemProperty(named = ENABLED, matches = "true")
    static class NeverReadyField {
        @Sandbox(readyCommand = "test -e /never", readyTimeoutSeconds = 2)
        MicroVm vm;

        @Test
        void field() {
            SEEN.add("ran anyway");
        }
    }

    /** A template made from a description, then cloned for each test: a web server already running. */
    @SmartVmTest
    @EnabledIfSystemProperty(named = ENABLED, matches = "true")
    @SandboxTemplate(name = "web", prepare = {"mkdir -p /srv && echo hello > /srv/index.html",
        "setsid busybox httpd -p 8080 -h /srv"})
    static class FromTemplate {
        @Sandbox(template = "web", readyPort = 8080)
        MicroVm web;

        @Test
        void one() {
            SEEN.add("template " + web.id());
            assertThat(web.exec("sh", "-c", "timeout 5 wget -qO- http://127.0.0.1:8080/").stdout()).isEqualTo("hello\n");
        }

        @Test
        void two() {
            SEEN.add("template " + web.id());
            assertThat(web.exec("sh", "-c", "timeout 5 wget -qO- http://127.0.0.1:8080/").stdout()).isEqualTo("hello\n");
        }
    }

    /** The same template name with other inputs: a new template, the old one removed. */
    @SmartVmTest
    @EnabledIfSystemProperty(named = ENABLED, matches = "true")
    @SandboxTemplate(name = "web", prepare = {"mkdir -p /srv && echo changed > /srv/index.html",
        "setsid busybox httpd -p 8080 -h /srv"})
    static class FromChangedTemplate {
        @Test
        void served(@Sandbox(template = "web", readyPort = 8080) MicroVm web) {
            assertThat(web.exec("sh", "-c", "timeout 5 wget -qO- http://127.0.0.1:8080/").stdout()).isEqualTo("changed\n");
        }
    }

    /** Records its VM's id in a file, then the JVM dies at once: nothing of JUnit's or SmartVM's cleanup runs. */
    @SmartVmTest
    @EnabledIfSystemProperty(named = ENABLED, matches = "true")
    static class Halts {
        @Test
        void halt(MicroVm vm) throws Exception {
            Files.writeString(Path.of(System.getProperty("smartvm.junit.idFile")), vm.name());
            Runtime.getRuntime().halt(3);
        }
    }

    /** A field that is no MicroVm: a configuration error, before any VM starts. */
    @SmartVmTest
    @EnabledIfSystemProperty(named = ENABLED, matches = "true")
    static class Misconfigured {
        @Sandbox
        String vm;

        @Test
        void never() {
            SEEN.add("ran anyway");
        }
    }
}

package dev.smartvm.junit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.EnabledIfQemuAvailable;
import dev.smartvm.MicroVm;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The README's example, run in CI as a user's test would run: each test gets its own clone of a
 * prepared template, so what one test's untrusted script does never reaches the next.
 */
@Tag("integration")
@EnabledIfQemuAvailable
@SmartVmTest
@SandboxTemplate(name = "greeter", prepare = {
    "mkdir -p /opt/app && printf '#!/bin/sh\\necho \"hello, $1\"\\n' > /opt/app/greet && chmod +x /opt/app/greet"})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExampleIT {
    @Sandbox(template = "greeter", readyCommand = "test -x /opt/app/greet")
    MicroVm sandbox;

    @Test
    @Order(1)
    void runsAnUntrustedScriptInItsOwnVm() {
        sandbox.files().writeString("/tmp/script.sh", "rm -rf /opt/app && echo deleted");
        assertThat(sandbox.exec("sh", "/tmp/script.sh").stdout()).isEqualTo("deleted\n");
    }

    @Test
    @Order(2)
    void theNextTestGetsAFreshClone() {
        assertThat(sandbox.exec("/opt/app/greet", "world").stdout()).isEqualTo("hello, world\n");
    }
}

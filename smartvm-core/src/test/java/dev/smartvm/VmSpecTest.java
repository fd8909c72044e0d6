package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VmSpecTest {
    @Test
    void hasUsableDefaults() {
        VmSpec s = VmSpec.builder().build();
        assertThat(s.backend()).isEqualTo("qemu");
        assertThat(s.image()).isEqualTo("default");
        assertThat(s.cpus()).isEqualTo(1);
        assertThat(s.memoryMib()).isEqualTo(256);
        assertThat(s.acceleration()).isEqualTo(Acceleration.AUTO);
        assertThat(s.toBuilder().build()).isEqualTo(s);
    }

    @Test
    void copiesTheCallersMaps() {
        Map<String, String> env = new HashMap<>(Map.of("A", "1"));
        VmSpec s = VmSpec.builder().env(env).build();
        env.put("B", "2");
        assertThat(s.env()).containsOnlyKeys("A");
        assertThatThrownBy(() -> s.env().put("C", "3")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void rejectsBadValuesSayingExpectedAndFound() {
        expectInvalid(() -> VmSpec.builder().cpus(0).build(), "cpus must be between 1 and 32; found 0");
        expectInvalid(() -> VmSpec.builder().cpus(33).build(), "found 33");
        expectInvalid(() -> VmSpec.builder().memoryMib(63).build(), "memory must be between 64 and 65536 MiB; found 63");
        expectInvalid(() -> VmSpec.builder().name("no spaces").build(), "found 'no spaces'");
        expectInvalid(() -> VmSpec.builder().name("-dash").build(), "starting with a letter");
        expectInvalid(() -> VmSpec.builder().env("A=B", "x").build(), "without '='");
        expectInvalid(() -> VmSpec.builder().env("", "x").build(), "non-empty");
        expectInvalid(() -> VmSpec.builder().workdir("tmp").build(), "absolute");
        expectInvalid(() -> VmSpec.builder().defaultTimeout(Duration.ZERO).build(), "positive");
        expectInvalid(() -> VmSpec.builder().backend("Xen!").build(), "found 'Xen!'");
        expectInvalid(() -> VmSpec.builder().image(" ").build(), "blank");
    }

    @Test
    void execRequestsValidateToo() {
        expectInvalid(() -> ExecRequest.of(List.of()), "at least one word");
        expectInvalid(() -> ExecRequest.of("a\0b"), "NUL");
        expectInvalid(() -> ExecRequest.of("ls").withWorkdir("rel"), "absolute");
        expectInvalid(() -> ExecRequest.of("ls").withTimeout(Duration.ofSeconds(-1)), "positive");
        expectInvalid(() -> ExecRequest.of("ls").withUid(-2), "uid");
        byte[] in = {1, 2};
        ExecRequest r = ExecRequest.of("cat").withStdin(in);
        in[0] = 9;
        assertThat(r.stdin()).containsExactly(1, 2);
        assertThat(ExecRequest.shell("echo hi").command()).containsExactly("sh", "-c", "echo hi");
    }

    private static void expectInvalid(Runnable r, String message) {
        assertThatThrownBy(r::run).isInstanceOfSatisfying(SmartVmException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains(message);
        });
    }

    /**
     * A spec is also read back from disk (vm.json), maybe long after the VM was made: it must
     * load although an allowed name no longer resolves or a config file is gone, so that the VM
     * can still be listed and removed. Those are checked when a VM is created.
     */
    @Test
    void aSpecReadBackFromDiskNeedsNoNameResolutionOrFiles() throws Exception {
        VmSpec spec = VmSpec.builder().backend("firecracker").firecrackerConfig(java.nio.file.Path.of("/nonexistent/fc.json"))
                .network(NetworkSpec.enabled(List.of("gone-since.invalid:443"), List.of())).build();
        String json = dev.smartvm.internal.io.Json.MAPPER.writeValueAsString(spec);
        assertThat(dev.smartvm.internal.io.Json.MAPPER.readValue(json, VmSpec.class)).isEqualTo(spec);
        assertThatThrownBy(() -> VmSpec.builder().network(NetworkSpec.enabled(List.of("10.0.0.0/33"), List.of())).build())
                .hasMessageContaining("invalid egress rule '10.0.0.0/33'");

        java.nio.file.Path home = java.nio.file.Files.createTempDirectory("svspec");
        try (SmartVm svm = SmartVm.builder().home(home).build()) {
            assertThatThrownBy(() -> svm.create(VmSpec.builder().network(NetworkSpec.enabled(List.of("gone-since.invalid:443"),
                    List.of())).build())).hasMessageContaining("the host cannot resolve 'gone-since.invalid'");
            assertThatThrownBy(() -> svm.create(spec.toBuilder().network(NetworkSpec.NONE).build()))
                    .hasMessageContaining("cannot read the Firecracker config");
            // which backends exist, and which options each takes, the SmartVm knows (a custom one may be registered)
            assertThatThrownBy(() -> svm.create(VmSpec.builder().backend("xen").build()))
                    .hasMessageContaining("no backend named 'xen'").hasMessageContaining("[firecracker, qemu, smolvm]");
            assertThatThrownBy(() -> svm.create(spec.toBuilder().backend("qemu").network(NetworkSpec.NONE).build()))
                    .hasMessageContaining("a Firecracker config file needs the firecracker backend; the backend is 'qemu'");
            assertThat(svm.list()).isEmpty();
        } finally {
            dev.smartvm.internal.io.FileTrees.delete(home);
        }
    }

    @Test
    void userModePublishesTcpOnlyAndAUdpPortAsksForTheBridge() {
        NetworkSpec udp = NetworkSpec.enabled(List.of(), List.of()).publishing(List.of("5353:53/udp"));
        // decided at boot, once: a UDP port asks for the bridge, whoever runs it
        assertThat(dev.smartvm.internal.net.HostNetwork.decideMode(udp, "qemu", true)).isEqualTo(NetworkSpec.Mode.BRIDGE);
        assertThat(dev.smartvm.internal.net.HostNetwork.decideMode(NetworkSpec.NONE, "qemu", true)).isNull();
        assertThatThrownBy(() -> dev.smartvm.internal.net.HostNetwork.decideMode(NetworkSpec.enabled(List.of(), List.of())
                .inMode(NetworkSpec.Mode.USER), "firecracker", false)).hasMessageContaining("has no user-mode network");
        expectInvalid(() -> udp.inMode(NetworkSpec.Mode.USER), "publishes TCP ports only");
        NetworkSpec user = NetworkSpec.enabled(List.of(), List.of()).inMode(NetworkSpec.Mode.USER);
        expectInvalid(() -> user.publishing(List.of("5353:53/udp")), "publishes TCP ports only");
        assertThat(user.publishing(List.of("8080:80/tcp")).publish()).containsExactly("8080:80/tcp");
    }
}

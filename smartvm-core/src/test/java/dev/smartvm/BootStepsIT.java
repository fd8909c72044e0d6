package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.smartvm.internal.net.HostNetwork;
import dev.smartvm.internal.net.NetworkManager;
import dev.smartvm.internal.net.TestNetworks;
import dev.smartvm.spi.AttachSpec;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.VmmProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The boot as named steps, through a custom engine registered with the builder (which the spec
 * names like a built-in one): a step that fails undoes what the steps before it made, here the
 * bridge network (TAP, address, nft rules), and the error names the step.
 */
class BootStepsIT extends RealVmTest {
    /** An engine whose VMM never starts; what it was asked is kept. */
    private static final class NoEngine implements Backend {
        final List<BootRequest> asked = new ArrayList<>();

        @Override
        public String name() {
            return "no-engine";
        }

        @Override
        public VmmProcess launch(BootRequest request) {
            asked.add(request);
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "this engine is not installed");
        }

        @Override
        public VmmProcess attach(AttachSpec spec) {
            throw new SmartVmException(ErrorCode.VM_STOPPED, "nothing to attach to");
        }
    }

    @Test
    void aStepThatFailsUndoesTheStepsBeforeItAndIsNamed() throws IOException {
        Assumptions.assumeTrue(HostNetwork.unavailableReason() == null, () -> "skipped: " + HostNetwork.unavailableReason());
        NoEngine engine = new NoEngine();
        String id;
        try (SmartVm custom = SmartVm.builder().home(Files.createDirectories(home.resolve("custom"))).imagesDir(sharedImages())
                .backend(engine).build();
                MicroVm vm = custom.create(VmSpec.builder().backend("no-engine").network(NetworkSpec.enabled(List.of(), List.of()))
                        .build())) {
            id = vm.id();
            Throwable t = catchThrowable(vm::start);
            assertThat(t).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.HOST_DEPENDENCY_MISSING))
                    .hasMessageContaining("launch VMM failed: this engine is not installed");
            assertThat(engine.asked).singleElement().satisfies(r -> {
                assertThat(r.nic()).as("the network was attached before the launch").isNotNull();
                assertThat(r.nic().tap()).isEqualTo(NetworkManager.generateTapName(vm.id(), "eth0"));
            });
            String tap = engine.asked.get(0).nic().tap();
            assertThat(TestNetworks.sh("ip link show " + tap).exitCode()).as("the TAP is gone").isNotZero();
            assertThat(TestNetworks.sh("nft list ruleset").stdout()).as("and its rules").doesNotContain(vm.id());
            assertThat(vm.state()).as("no VMM ever ran: the VM is as it was").isEqualTo(VmState.CREATED);
            assertThat(vm.info().network().address()).isNull();
        }
        assertThat(Path.of(HostNetwork.DEFAULT_STATE_DIR, "leases.json")).satisfiesAnyOf(
                p -> assertThat(p).doesNotExist(), p -> assertThat(Files.readString(p)).as("its address").doesNotContain(id));
    }
}

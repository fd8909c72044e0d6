package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerVm;
import dev.smartvm.internal.firecracker.FakeFirecracker;
import dev.smartvm.internal.firecracker.FirecrackerBackend;
import dev.smartvm.internal.firecracker.FirecrackerRelease;
import dev.smartvm.internal.image.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The backend contract on the Firecracker backend, against the fake Firecracker (the real one
 * cannot run here): the backend's real code spawns it, configures it over its API, and reaches
 * the agent through its hybrid vsock.
 */
class FirecrackerBackendContractTest extends BackendContract {
    private Path image;

    @Override
    protected String backend() {
        return "firecracker";
    }

    @Override
    protected SmartVm.Builder configure(SmartVm.Builder builder) throws IOException {
        Path bin = Files.createDirectories(home.resolve("bin"));
        Path fc = FakeFirecracker.install(bin);
        return builder.backend(new FirecrackerBackend(() -> new FirecrackerRelease.Binaries(fc, bin.resolve("jailer")), null,
                FieldSupport.load()));
    }

    @Test
    void firecrackerSpecificControlIsThereOnlyWhileFirecrackerRuns() throws IOException {
        MicroVm vm = svm.create(spec().name("fc-info").build());
        Throwable before = catchThrowable(vm::firecracker);
        assertThat(((SmartVmException) before).code()).isEqualTo(ErrorCode.NO_CLIENT);
        vm.start();
        FirecrackerVm fc = vm.firecracker();
        assertThat(fc.instanceInfo().id()).isEqualTo(vm.id());
        assertThat(fc.instanceInfo().state()).isEqualTo("Running");
        vm.pause();
        assertThat(fc.instanceInfo().state()).isEqualTo("Paused");
        vm.resume();
        fc.flushMetrics();
        vm.stop();
        assertThat(((SmartVmException) catchThrowable(vm::firecracker)).code()).isEqualTo(ErrorCode.NO_CLIENT);
        vm.remove();
    }

    /** The configuration a running VM has, as Firecracker gives it: a FullVmConfiguration of the spec, with SmartVM's objects. */
    @Test
    void theConfigurationAVmRunsWithIsExportedAsFirecrackerWritesIt() throws IOException {
        Path config = Files.writeString(home.resolve("fc-export.json"), "{\"balloon\": {\"amount_mib\": 8, \"deflate_on_oom\": true}}");
        try (MicroVm vm = svm.start(spec().name("exported").firecrackerConfig(config).build())) {
            String exported = vm.firecracker().vmConfig();
            com.fasterxml.jackson.databind.JsonNode json = dev.smartvm.internal.io.Json.MAPPER.readTree(exported);
            assertThat(dev.smartvm.firecracker.FirecrackerApiSpec.load("firecracker-v1.16.1.yaml")
                    .validateDefinition("FullVmConfiguration", json)).as(exported).isEmpty();
            assertThat(json.at("/boot-source/kernel_image_path").asText()).isNotEmpty();
            assertThat(json.at("/boot-source/initrd_path").asText()).as("the agent's initramfs").isNotEmpty();
            assertThat(json.at("/machine-config/mem_size_mib").asInt()).isPositive();
            assertThat(json.at("/vsock/uds_path").asText()).isNotEmpty();
            assertThat(json.at("/balloon/amount_mib").asInt()).as("the user's file's object").isEqualTo(8);
            assertThat(exported).as("pretty-printed, as a file").contains("\n  ");
        }
    }

    @Test
    void aFirecrackerConfigFileAddsItsObjectsAndIsKeptWithTheVm() throws IOException {
        Path config = Files.writeString(home.resolve("fc.json"),
                "{\"balloon\": {\"amount_mib\": 8, \"deflate_on_oom\": true, \"stats_polling_interval_s\": 1}}");
        try (MicroVm vm = svm.start(spec().name("with-balloon").firecrackerConfig(config).build())) {
            vm.firecracker().updateBalloon(16);
            assertThat(vm.firecracker().balloonStatistics().get("target_mib")).isEqualTo(16);
            try (SmartVm other = configure(SmartVm.builder().home(home)).build()) {
                assertThat(other.get("with-balloon").orElseThrow().info().spec().firecrackerConfig()).isEqualTo(config);
            }
        }
        Path bad = Files.writeString(home.resolve("bad.json"), "{\"vsock\": {\"guest_cid\": 9, \"uds_path\": \"/x\"}}");
        assertThatThrownBy(() -> svm.create(spec().firecrackerConfig(bad).build())).hasMessageContaining("must not have vsock");
        assertThat(svm.list()).noneMatch(v -> v.spec().firecrackerConfig() != null && v.spec().firecrackerConfig().equals(bad));
    }

    @Test
    void socketPathsThatDoNotFitAreRefusedBeforeAnythingStarts() throws IOException {
        Path deep = Files.createDirectories(home.resolve("d".repeat(60)));
        try (SmartVm far = configure(SmartVm.builder().home(deep)).build()) {
            MicroVm vm = far.create(spec().build());
            assertThatThrownBy(vm::start).hasMessageContaining("longer than 107 bytes")
                    .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            assertThat(deep.resolve("vms").resolve(vm.id()).resolve("firecracker.argv")).doesNotExist();
        }
    }

    /** An x86-64 ELF header: all the fake looks at in a kernel. The agent is what runs. */
    @Override
    protected String image() throws IOException {
        if (image == null) {
            image = TestImages.directory(home.resolve("fake-image"), true);
        }
        return image.toString();
    }
}

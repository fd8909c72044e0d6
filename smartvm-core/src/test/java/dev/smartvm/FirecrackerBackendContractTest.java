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
    private final java.util.List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    protected String backend() {
        return "firecracker";
    }

    @Override
    protected SmartVm.Builder configure(SmartVm.Builder builder) throws IOException {
        Path bin = Files.createDirectories(home.resolve("bin"));
        Path fc = FakeFirecracker.install(bin);
        return builder.backend(new FirecrackerBackend(() -> new FirecrackerRelease.Binaries(fc, bin.resolve("jailer")), null,
                FieldSupport.load()).withNotices(told::add));
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
            assertThat(Path.of(json.at("/boot-source/kernel_image_path").asText())).isAbsolute().exists();
            assertThat(json.at("/boot-source").has("initrd_path")).as("the agent's initramfs is SmartVM's").isFalse();
            assertThat(json.at("/boot-source/boot_args").asText()).as("the agent's args are SmartVM's").doesNotContain("smartvm.")
                    .doesNotContain("rdinit");
            assertThat(json.has("logger")).as("SmartVM's log file").isFalse();
            assertThat(json.at("/machine-config/mem_size_mib").asInt()).isPositive();
            assertThat(Path.of(json.at("/vsock/uds_path").asText())).isAbsolute();
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
        Path bad = Files.writeString(home.resolve("bad.json"), "{\"boot-source\": {\"kernel_image_path\": \"/k\","
                + " \"initrd_path\": \"/i\"}}");
        assertThatThrownBy(() -> svm.create(spec().firecrackerConfig(bad).build())).hasMessageContaining("initrd_path is /i");
        assertThat(svm.list()).noneMatch(v -> v.spec().firecrackerConfig() != null && v.spec().firecrackerConfig().equals(bad));
    }

    /** A VM Firecracker users run, in their own config file: their kernel, root drive, interface, MMDS and vsock. */
    private Path usersVm(Path kernel) throws Exception {
        Path rootfs = dev.smartvm.internal.image.TestImages.ext4(home.resolve("rootfs.ext4"));
        return Files.writeString(home.resolve("vm_config.json"), """
                {
                  "boot-source": {"kernel_image_path": "%s", "boot_args": "console=ttyS0 reboot=k panic=1 pci=off",
                                  "initrd_path": null},
                  "drives": [{"drive_id": "rootfs", "path_on_host": "%s", "is_root_device": true, "is_read_only": false}],
                  "machine-config": {"vcpu_count": 1, "mem_size_mib": 256, "smt": false},
                  "cpu-config": {"kvm_capabilities": [], "cpuid_modifiers": [], "msr_modifiers": []},
                  "network-interfaces": [{"iface_id": "net1", "guest_mac": "06:00:ac:10:00:02", "host_dev_name": "tap-user"}],
                  "mmds-config": {"version": "V2", "network_interfaces": ["net1"], "ipv4_address": "169.254.169.254"},
                  "vsock": {"guest_cid": 7, "uds_path": "/tmp/their-v.sock"},
                  "balloon": null, "logger": null, "metrics": null, "entropy": null, "pmem": null, "memory-hotplug": null
                }
                """.formatted(kernel, rootfs));
    }

    /**
     * The user's kernel boots with SmartVM's agent (the fake runs the agent; a real guest would
     * be inside the root drive), the vsock is taken over and the user told; the export, given back,
     * plans the same requests, and Firecracker itself boots it through --config-file.
     */
    @Test
    void aFirecrackerUsersOwnVmBootsWithTheAgentAndItsExportRoundTrips() throws Exception {
        Path kernel = Files.write(home.resolve("vmlinux-user"), dev.smartvm.internal.image.TestImages.elfKernel(true));
        Path file = usersVm(kernel);
        Path exported = home.resolve("exported.json");
        try (MicroVm vm = svm.start(spec().name("users-own").firecrackerConfig(file).build())) {
            assertThat(vm.exec("echo", "agent").stdout()).isEqualTo("agent\n");
            assertThatThrownBy(() -> vm.snapshot("users-own-state")).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED)).hasMessageContaining("writable drive 'rootfs'");
            assertThat(vm.exec("echo", "still").stdout()).as("running on").isEqualTo("still\n");
            assertThat(told).anyMatch(t -> t.contains(file.toString()) && t.contains("vsock is taken over")
                    && t.contains("guest_cid 7 is kept"));
            Files.writeString(exported, vm.firecracker().vmConfig());
        }
        com.fasterxml.jackson.databind.JsonNode json = dev.smartvm.internal.io.Json.MAPPER.readTree(exported.toFile());
        assertThat(dev.smartvm.firecracker.FirecrackerApiSpec.load("firecracker-v1.16.1.yaml")
                .validateDefinition("FullVmConfiguration", json)).as(json.toString()).isEmpty();
        assertThat(json.at("/boot-source/boot_args").asText()).isEqualTo("console=ttyS0 reboot=k panic=1 pci=off");
        assertThat(json.at("/cpu-config").isObject()).as("sent as given, exported as Firecracker has it").isTrue();
        var target = new dev.smartvm.firecracker.FirecrackerTarget(dev.smartvm.firecracker.FirecrackerVersion.parse("1.16.1"));
        BootPlan original = svm.plan(spec().firecrackerConfig(file).build(), target);
        BootPlan again = svm.plan(spec().firecrackerConfig(exported).build(), target);
        assertThat(again.apiCalls()).as("the round trip").isEqualTo(original.apiCalls());
        assertThat(original.apiCalls()).extracting(BootPlan.ApiCall::path).contains("/cpu-config", "/drives/rootfs", "/mmds/config");

        Path elsewhere = Files.createDirectories(home.resolve("plain-firecracker"));
        Process fc = new ProcessBuilder(home.resolve("bin/firecracker").toString(), "--api-sock", "api.sock", "--config-file",
                exported.toString()).directory(elsewhere.toFile()).redirectErrorStream(true)
                .redirectOutput(elsewhere.resolve("out.log").toFile()).start();
        try {
            var api = new dev.smartvm.internal.firecracker.FirecrackerApiClient(elsewhere.resolve("api.sock"));
            long until = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
            String state = "";
            while (!state.equals("Running") && fc.isAlive() && System.nanoTime() < until) {
                Thread.sleep(100);
                try {
                    state = api.send("GET", "/", null).json().path("state").asText();
                } catch (SmartVmException notYet) {
                    // not listening yet
                }
            }
            assertThat(state).as(Files.readString(elsewhere.resolve("out.log"))).isEqualTo("Running");
            assertThat(api.send("GET", "/vm/config", null).json().at("/drives/0/drive_id").asText()).isEqualTo("rootfs");
        } finally {
            fc.destroyForcibly().waitFor();
        }
    }

    /** A kernel of the user's without vsock: the agent cannot listen; the boot fails with the console and what the kernel needs. */
    @Test
    void aUsersKernelThatCannotRunTheAgentFailsWithTheConsoleAndAHint() throws Exception {
        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (var out = new java.util.zip.GZIPOutputStream(gz)) {
            out.write("CONFIG_BLK_DEV_INITRD=y\nCONFIG_VIRTIO_MMIO=y\n# CONFIG_VSOCKETS is not set\n".getBytes());
        }
        java.io.ByteArrayOutputStream k = new java.io.ByteArrayOutputStream();
        k.write(dev.smartvm.internal.image.TestImages.elfKernel(true));
        k.write("IKCFG_ST".getBytes());
        k.write(gz.toByteArray());
        k.write("IKCFG_ED".getBytes());
        Path kernel = Files.write(home.resolve("vmlinux-no-vsock"), k.toByteArray());
        MicroVm vm = svm.create(spec().name("no-vsock").firecrackerConfig(usersVm(kernel)).bootTimeout(java.time.Duration.ofSeconds(20))
                .build());
        assertThatThrownBy(vm::start).isInstanceOf(SmartVmException.class)
                .hasMessageContaining("cannot listen on vsock port 1024")
                .hasMessageContaining("hint: the kernel " + kernel).hasMessageContaining("CONFIG_VIRTIO_VSOCKETS");
        assertThat(vm.info().state()).isNotEqualTo(VmState.RUNNING);
        vm.remove();
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

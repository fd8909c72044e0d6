package dev.smartvm.internal.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.Balloon;
import dev.smartvm.firecracker.BootSource;
import dev.smartvm.firecracker.Drive;
import dev.smartvm.firecracker.EntropyDevice;
import dev.smartvm.firecracker.FieldSupport;
import dev.smartvm.firecracker.FirecrackerApiSpec;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.firecracker.Logger;
import dev.smartvm.firecracker.MachineConfig;
import dev.smartvm.firecracker.Metrics;
import dev.smartvm.firecracker.MmdsConfig;
import dev.smartvm.firecracker.NetworkInterface;
import dev.smartvm.firecracker.RateLimiter;
import dev.smartvm.firecracker.SerialDevice;
import dev.smartvm.firecracker.TokenBucket;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.firecracker.Vsock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every request of a plan exists in the spec, and its body validates against the operation's own schema. */
class FirecrackerPlanTest {
    private static final FirecrackerApiSpec SPEC = FirecrackerApiSpec.load("firecracker-v1.16.1.yaml");
    private static final FieldSupport SUPPORT = FieldSupport.load();
    private static final FirecrackerVersion V1_16_1 = FirecrackerVersion.parse("1.16.1");

    static VmConfig full() {
        TokenBucket bucket = new TokenBucket(1 << 20, null, 100);
        RateLimiter limiter = new RateLimiter(bucket, new TokenBucket(1000, 10L, 1000));
        return new VmConfig(new BootSource("/img/vmlinux", "/img/initramfs.cpio", "console=ttyS0 reboot=k panic=1"),
                new MachineConfig(2, 512, true, null, "None", true),
                List.of(Drive.of("rootfs", "/img/rootfs.ext4", true, false),
                        new Drive("scratch", "/img/scratch.img", false, false, null, "Writeback", "Async", limiter)),
                List.of(new NetworkInterface("eth0", "sv1a2b3c4d", "02:fc:00:00:00:01", 1500, limiter, null)),
                new Vsock(3, "/run/vm/v.sock"), new Balloon(64, true, 5, true, true),
                new MmdsConfig("V2", List.of("eth0"), "169.254.169.254", false),
                new Logger("Info", "/run/vm/fc.log", true, false, null), new Metrics("/run/vm/fc.metrics"),
                new EntropyDevice(limiter), new SerialDevice("/run/vm/serial.log", bucket));
    }

    @Test
    void everyRequestConformsToTheOperationItTargets() {
        List<ApiRequest> plan = FirecrackerPlan.of(full(), Map.of("latest", Map.of("meta-data", Map.of("id", "vm-1"))),
                V1_16_1, SUPPORT);
        for (ApiRequest r : plan) {
            JsonNode op = SPEC.operation(r.method(), r.template());
            assertThat(op.isMissingNode()).as(r.method() + " " + r.template() + " is in the spec").isFalse();
            JsonNode schema = SPEC.bodySchema(r.method(), r.template());
            if (schema == null) {
                assertThat(r.body()).as(r.path() + " takes no body").isNull();
            } else {
                assertThat(SPEC.validate(schema, r.body())).as(r.method() + " " + r.path() + " " + r.body()).isEmpty();
            }
        }
    }

    /**
     * A config file as Firecracker's own tests write them: every FullVmConfiguration key, absent
     * ones as null, a cpu-config, pmem and memory-hotplug (sent as given), MMDS V2 with an
     * address, an interface with rate limiters. Its requests conform to v1.16.1 and carry its objects.
     */
    @Test
    void aFirecrackerStyleConfigFilePlansWithItsObjectsAsGiven(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("vm_config.json"), """
                {
                  "balloon": null,
                  "drives": [{"drive_id": "scratch", "path_on_host": "/img/scratch.ext4", "is_root_device": false,
                              "is_read_only": false, "partuuid": null, "cache_type": "Unsafe", "io_engine": "Sync",
                              "rate_limiter": null}],
                  "boot-source": null,
                  "cpu-config": {"kvm_capabilities": ["!56"], "cpuid_modifiers": [], "msr_modifiers": []},
                  "logger": null,
                  "machine-config": {"vcpu_count": 2, "mem_size_mib": 1024, "smt": false, "track_dirty_pages": false,
                                     "huge_pages": "None"},
                  "metrics": null,
                  "memory-hotplug": {"total_size_mib": 2048, "slot_size_mib": 128, "block_size_mib": 2},
                  "mmds-config": {"version": "V2", "network_interfaces": ["net1"], "ipv4_address": "169.254.169.250"},
                  "network-interfaces": [{"iface_id": "net1", "host_dev_name": "tap1", "guest_mac": "06:00:ac:10:00:02",
                      "rx_rate_limiter": {"bandwidth": {"size": 1048576, "refill_time": 100}, "ops": null},
                      "tx_rate_limiter": null}],
                  "pmem": [{"id": "pmem0", "path_on_host": "/img/data.img", "root_device": false, "read_only": true}],
                  "vsock": null,
                  "entropy": null
                }
                """);
        VmConfig own = new VmConfig(new BootSource("/img/vmlinux", "/img/initramfs.cpio", "console=ttyS0"),
                MachineConfig.of(1, 256), List.of(), List.of(), new Vsock(3, "/run/vm/v.sock"));
        VmConfig config = ConfigMerge.merge(own, FirecrackerConfigFile.read(file));
        ConfigAsGiven given = FirecrackerConfigFile.load(file).asGiven();
        List<ApiRequest> plan = FirecrackerPlan.of(config, given, null, V1_16_1, SUPPORT);
        for (ApiRequest r : plan) {
            JsonNode schema = SPEC.bodySchema(r.method(), r.template());
            assertThat(SPEC.operation(r.method(), r.template()).isMissingNode()).as(r.template()).isFalse();
            if (schema != null) {
                assertThat(SPEC.validate(schema, r.body())).as(r.method() + " " + r.path() + " " + r.body()).isEmpty();
            }
        }
        assertThat(plan.stream().map(ApiRequest::path).toList()).containsExactly("/machine-config", "/cpu-config",
                "/boot-source", "/drives/scratch", "/pmem/pmem0", "/network-interfaces/net1", "/vsock", "/mmds/config",
                "/hotplug/memory", "/actions");
        Map<String, ApiRequest> byPath = new java.util.HashMap<>();
        plan.forEach(r -> byPath.put(r.path(), r));
        assertThat(byPath.get("/network-interfaces/net1").body()).containsEntry("guest_mac", "06:00:ac:10:00:02");
        assertThat(byPath.get("/mmds/config").body()).containsEntry("ipv4_address", "169.254.169.250");
        assertThat(byPath.get("/drives/scratch").body()).containsEntry("path_on_host", "/img/scratch.ext4");
        assertThat(byPath.get("/cpu-config").body()).containsEntry("kvm_capabilities", List.of("!56"));
        assertThat(byPath.get("/hotplug/memory").body()).containsEntry("total_size_mib", 2048);
        assertThat(byPath.get("/machine-config").body()).containsEntry("mem_size_mib", 1024);

        assertThatThrownBy(() -> FirecrackerPlan.of(config, given, null, FirecrackerVersion.parse("1.13.0"), SUPPORT))
                .as("a key newer than the target").hasMessageContaining("needs Firecracker 1.14.0 or newer; the target is 1.13.0");
        assertThatThrownBy(() -> FirecrackerPlan.of(config, FirecrackerConfigFile.load(java.nio.file.Files.writeString(
                dir.resolve("cpu.json"), "{\"cpu-config\": {}}")).asGiven(), null, FirecrackerVersion.parse("1.9.0"), SUPPORT))
                .hasMessageContaining("'cpu-config' needs Firecracker 1.10.0 or newer");
        assertThatThrownBy(() -> FirecrackerConfigFile.load(java.nio.file.Files.writeString(dir.resolve("bad.json"),
                "{\"cpu-config\": null, \"gpu\": {}}"))).hasMessageContaining("unknown field 'gpu'")
                .hasMessageContaining("cpu-config").hasMessageContaining("memory-hotplug").hasMessageContaining("pmem");
        assertThatThrownBy(() -> FirecrackerConfigFile.load(java.nio.file.Files.writeString(dir.resolve("pmem.json"),
                "{\"pmem\": [{\"id\": \"p\", \"path_on_host\": \"/x\", \"size\": 1}]}"))).hasMessageContaining("pmem[0]")
                .hasMessageContaining("unknown field 'size'");
    }

    /**
     * The issue's own case: a VM Firecracker users already run, its boot-source, root drive,
     * cpu-config null, interface and MMDS V2, the rest null. The backend plans it: the file's
     * kernel with SmartVM's initramfs, its boot args then the agent's, its root drive (ext4, told
     * from the disk) the agent's root, its vsock taken over; each request valid for v1.16.1.
     */
    @Test
    void aVmFirecrackerUsersRunPlansWithItsKernelRootDriveInterfaceAndMmds(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path kernel = java.nio.file.Files.write(dir.resolve("vmlinux-6.1"), dev.smartvm.internal.image.TestImages.elfKernel(true));
        java.nio.file.Path rootfs = dev.smartvm.internal.image.TestImages.ext4(dir.resolve("ubuntu-24.04.ext4"));
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("vm_config.json"), """
                {
                  "boot-source": {"kernel_image_path": "%s", "boot_args": "console=ttyS0 reboot=k panic=1 pci=off",
                                  "initrd_path": null},
                  "drives": [{"drive_id": "rootfs", "path_on_host": "%s", "is_root_device": true, "is_read_only": false,
                              "partuuid": null, "cache_type": "Unsafe", "io_engine": "Sync", "rate_limiter": null}],
                  "machine-config": {"vcpu_count": 2, "mem_size_mib": 1024, "smt": false, "track_dirty_pages": false},
                  "cpu-config": null,
                  "balloon": null,
                  "network-interfaces": [{"iface_id": "net1", "guest_mac": "06:00:AC:10:00:02", "host_dev_name": "tap0"}],
                  "mmds-config": {"version": "V2", "network_interfaces": ["net1"], "ipv4_address": "169.254.169.254"},
                  "vsock": {"guest_cid": 7, "uds_path": "/tmp/their-v.sock"},
                  "logger": null, "metrics": null, "entropy": null, "pmem": null, "memory-hotplug": null
                }
                """.formatted(kernel, rootfs));
        java.nio.file.Path image = dev.smartvm.internal.image.TestImages.directory(dir.resolve("image"), true);
        dev.smartvm.spi.BootRequest request = new dev.smartvm.spi.BootRequest("vm-1", dir.resolve("vms/vm-1"),
                new dev.smartvm.spi.BootImage("test", image.resolve("vmlinuz"), image.resolve("initramfs.cpio"), null, null, false),
                1, 256, dev.smartvm.Acceleration.KVM).with(new dev.smartvm.firecracker.FirecrackerOptions(file));
        FirecrackerBackend backend = new FirecrackerBackend(() -> {
            throw new AssertionError("a plan starts nothing");
        }, null, SUPPORT);
        List<ApiRequest> plan = backend.plan(request, V1_16_1);
        Map<String, ApiRequest> byPath = new java.util.LinkedHashMap<>();
        for (ApiRequest r : plan) {
            JsonNode schema = SPEC.bodySchema(r.method(), r.template());
            assertThat(SPEC.operation(r.method(), r.template()).isMissingNode()).as(r.template()).isFalse();
            if (schema != null) {
                assertThat(SPEC.validate(schema, r.body())).as(r.method() + " " + r.path() + " " + r.body()).isEmpty();
            }
            byPath.put(r.path(), r);
        }
        assertThat(byPath.keySet()).containsExactly("/logger", "/metrics", "/machine-config", "/boot-source", "/drives/rootfs",
                "/network-interfaces/net1", "/vsock", "/mmds/config", "/actions");
        Map<String, Object> boot = byPath.get("/boot-source").body();
        assertThat(boot).containsEntry("kernel_image_path", kernel.toString())
                .containsEntry("initrd_path", image.resolve("initramfs.cpio").toString());
        assertThat((String) boot.get("boot_args")).isEqualTo("console=ttyS0 reboot=k panic=1 pci=off rdinit=/init"
                + " smartvm.vmid=vm-1 smartvm.transport=vsock:1024 smartvm.root=/dev/vda smartvm.rootfstype=ext4");
        assertThat(byPath.get("/drives/rootfs").body()).containsEntry("path_on_host", rootfs.toString())
                .containsEntry("is_root_device", true);
        assertThat(byPath.get("/network-interfaces/net1").body()).containsEntry("guest_mac", "06:00:AC:10:00:02");
        assertThat(byPath.get("/mmds/config").body()).containsEntry("version", "V2").containsEntry("ipv4_address", "169.254.169.254")
                .containsEntry("network_interfaces", List.of("net1"));
        assertThat(byPath.get("/vsock").body()).containsEntry("guest_cid", 7).containsEntry("uds_path", "v.sock");
        assertThat(byPath.get("/machine-config").body()).containsEntry("vcpu_count", 2).containsEntry("mem_size_mib", 1024);

        List<ApiRequest> jailed = backend.jailed(Jailer.of(java.nio.file.Path.of("/opt/fc/jailer"), 1000, 1000, dir.resolve("jails")))
                .plan(request, V1_16_1);
        assertThat(jailed).filteredOn(r -> r.path().equals("/boot-source")).singleElement()
                .satisfies(r -> assertThat(r.body()).containsEntry("kernel_image_path", "/vmlinux").containsEntry("initrd_path", "/initrd"));
        assertThat(jailed).filteredOn(r -> r.path().equals("/drives/rootfs")).singleElement()
                .satisfies(r -> assertThat(r.body()).as("linked into the jail").containsEntry("path_on_host", "/drive-rootfs"));
    }

    /** What a config file cannot have, each refused with the key and the reason before anything starts. */
    @Test
    void aBootSourceSmartVmCannotHonourIsRefusedNamingTheKey(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path kernel = java.nio.file.Files.write(dir.resolve("vmlinux"), dev.smartvm.internal.image.TestImages.elfKernel(true));
        java.nio.file.Path rootfs = dev.smartvm.internal.image.TestImages.ext4(dir.resolve("root.ext4"));
        Map<String, String> refused = Map.of(
                "{\"boot-source\": {\"kernel_image_path\": \"K\", \"initrd_path\": \"/boot/initrd.img\"}}",
                "boot-source.initrd_path is /boot/initrd.img: SmartVM boots the kernel with its own initramfs",
                "{\"boot-source\": {\"kernel_image_path\": \"/nowhere/vmlinux\"}}", "kernel_image_path /nowhere/vmlinux does not exist",
                "{\"boot-source\": {\"kernel_image_path\": \"K\", \"boot_args\": \"console=ttyS0 rdinit=/sbin/init\"}}",
                "sets rdinit=/sbin/init, but SmartVM's guest agent needs rdinit=/init",
                "{\"boot-source\": {\"kernel_image_path\": \"K\", \"boot_args\": \"init=/bin/bash\"}}", "init=/bin/bash, which would not run",
                "{\"boot-source\": {\"kernel_image_path\": \"K\", \"boot_args\": \"smartvm.ports=4\"}}", "an argument SmartVM sets itself",
                "{\"drives\": [{\"drive_id\": \"r\", \"path_on_host\": \"R\", \"is_root_device\": true, \"is_read_only\": false,"
                        + " \"partuuid\": \"0eaa91a0-01\"}]}", "the root drive 'r' has a partuuid",
                "{\"drives\": [{\"drive_id\": \"r\", \"path_on_host\": \"K\", \"is_root_device\": true, \"is_read_only\": false}]}",
                "holds no filesystem SmartVM can tell");
        int n = 0;
        for (Map.Entry<String, String> c : refused.entrySet()) {
            java.nio.file.Path f = java.nio.file.Files.writeString(dir.resolve("bad" + n++ + ".json"),
                    c.getKey().replace("\"K\"", "\"" + kernel + "\"").replace("\"R\"", "\"" + rootfs + "\""));
            assertThatThrownBy(() -> ConfigMerge.UserBoot.of(f, FirecrackerConfigFile.read(f))).as(c.getKey())
                    .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining(f.toString()).hasMessageContaining(c.getValue());
        }
    }

    /** A user's args are kept, an arg equal to the agent's is not repeated, and the user's part is what an export gives back. */
    @Test
    void bootArgsKeepTheUsersAndAddTheAgents() {
        String agent = "rdinit=/init smartvm.vmid=a smartvm.transport=vsock:1024 ip=10.0.0.2::10.0.0.1:255.255.255.0::eth0:off";
        String joined = ConfigMerge.join("console=ttyS0  rdinit=/init quiet", agent);
        assertThat(joined).isEqualTo("console=ttyS0 quiet " + agent);
        assertThat(ConfigMerge.userArgs(joined)).isEqualTo("console=ttyS0 quiet");
        assertThat(ConfigMerge.join(ConfigMerge.userArgs(joined), agent)).as("the round trip").isEqualTo(joined);
        assertThatThrownBy(() -> ConfigMerge.join("ip=dhcp", agent)).hasMessageContaining("sets ip=dhcp, but SmartVM's guest agent"
                + " needs ip=10.0.0.2");
        assertThat(ConfigMerge.UserBoot.NONE.bootArgs(agent)).isEqualTo(ConfigMerge.OWN_ARGS + " " + agent);
    }

    @Test
    void requestsComeInTheOrderFirecrackerNeeds() {
        List<String> paths = FirecrackerPlan.of(full(), Map.of("k", "v"), V1_16_1, SUPPORT).stream().map(ApiRequest::path).toList();
        assertThat(paths).containsExactly("/logger", "/metrics", "/machine-config", "/boot-source", "/drives/rootfs",
                "/drives/scratch", "/network-interfaces/eth0", "/vsock", "/mmds/config", "/mmds", "/balloon", "/entropy",
                "/serial", "/actions");
        ApiRequest start = FirecrackerPlan.of(full(), null, V1_16_1, SUPPORT).getLast();
        assertThat(start.body()).isEqualTo(Map.of("action_type", "InstanceStart"));
    }

    @Test
    void idsInPathAndBodyAgree() {
        for (ApiRequest r : FirecrackerPlan.of(full(), null, V1_16_1, SUPPORT)) {
            if (r.template().contains("{drive_id}")) {
                assertThat(r.path()).isEqualTo("/drives/" + r.body().get("drive_id"));
            }
            if (r.template().contains("{iface_id}")) {
                assertThat(r.path()).isEqualTo("/network-interfaces/" + r.body().get("iface_id"));
            }
        }
    }

    @Test
    void aConfigTheTargetCannotTakeSendsNothing() {
        assertThatThrownBy(() -> FirecrackerPlan.of(full(), null, FirecrackerVersion.parse("1.13.0"), SUPPORT))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("networkInterfaces[0].mtu needs Firecracker 1.16.0")
                .hasMessageContaining("serial needs Firecracker 1.14.0");
    }

    @Test
    void theMmdsContentsAreCopied() {
        Map<String, Object> inner = new HashMap<>(Map.of("id", "vm-1"));
        Map<String, Object> data = new HashMap<>(Map.of("meta", inner));
        ApiRequest mmds = FirecrackerPlan.of(full(), data, V1_16_1, SUPPORT).stream()
                .filter(r -> r.path().equals("/mmds")).findFirst().orElseThrow();
        inner.put("id", "changed");
        assertThat(mmds.body()).isEqualTo(Map.of("meta", Map.of("id", "vm-1")));
    }
}

package dev.smartvm.internal.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.firecracker.Balloon;
import dev.smartvm.firecracker.BootSource;
import dev.smartvm.firecracker.Drive;
import dev.smartvm.firecracker.MachineConfig;
import dev.smartvm.firecracker.VmConfig;
import dev.smartvm.firecracker.Vsock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Firecracker's config-file format: read strictly, and what it reads is what the API objects send. */
class FirecrackerConfigFileTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** The file Firecracker would take for {@code c}: each object's API body under its API name. */
    static ObjectNode asFile(VmConfig c) {
        ObjectNode f = JSON.createObjectNode();
        f.set("boot-source", JSON.valueToTree(c.bootSource().toPayload()));
        f.set("machine-config", JSON.valueToTree(c.machineConfig().toPayload()));
        f.set("drives", JSON.valueToTree(c.drives().stream().map(Drive::toPayload).toList()));
        f.set("network-interfaces", JSON.valueToTree(c.networkInterfaces().stream().map(n -> n.toPayload()).toList()));
        f.set("vsock", JSON.valueToTree(c.vsock().toPayload()));
        f.set("balloon", JSON.valueToTree(c.balloon().toPayload()));
        f.set("mmds-config", JSON.valueToTree(c.mmds().toPayload()));
        f.set("logger", JSON.valueToTree(c.logger().toPayload()));
        f.set("metrics", JSON.valueToTree(c.metrics().toPayload()));
        f.set("entropy", JSON.valueToTree(c.entropy().toPayload()));
        f.set("serial", JSON.valueToTree(c.serial().toPayload()));
        return f;
    }

    @Test
    void everyObjectAndFieldRoundTrips() throws IOException {
        VmConfig full = FirecrackerPlanTest.full();
        Path file = dir.resolve("vm.json");
        Files.writeString(file, JSON.writeValueAsString(asFile(full)));
        assertThat(FirecrackerConfigFile.read(file)).isEqualTo(full);
    }

    @Test
    void refusesWhatFirecrackerRefuses() throws Exception {
        assertThatThrownBy(() -> FirecrackerConfigFile.parse(JSON.readTree("{\"gpu\":{}}")))
                .hasMessageContaining("unknown field 'gpu'").hasMessageContaining("cpu-config, drives, entropy");
        assertThat(FirecrackerConfigFile.parse(JSON.readTree("{\"cpu-config\":{}, \"pmem\": null, \"boot-source\": null}")).drives())
                .as("every FullVmConfiguration key is known, null is absent").isEmpty();
        assertThatThrownBy(() -> FirecrackerConfigFile.parse(JSON.readTree("{\"drives\":[{\"drive_id\":\"a\",\"color\":1}]}")))
                .hasMessageContaining("drives[0] has an unknown field 'color'");
        assertThatThrownBy(() -> FirecrackerConfigFile.parse(JSON.readTree("{\"machine-config\":{\"vcpu_count\":\"two\"}}")))
                .hasMessageContaining("machine-config.vcpu_count must be an integer");
        assertThatThrownBy(() -> FirecrackerConfigFile.parse(JSON.readTree("{\"balloon\":{\"deflate_on_oom\":1}}")))
                .hasMessageContaining("balloon.deflate_on_oom must be true or false");
        assertThatThrownBy(() -> FirecrackerConfigFile.read(dir.resolve("missing.json")))
                .hasMessageContaining("cannot read the Firecracker config");
    }

    @Test
    void theFilesDrivesAndInterfacesAreAddedItsObjectsReplaceSmartVmsAndItsVsockIsTakenOver() {
        VmConfig own = new VmConfig(new BootSource("/k", "/i", "x"), MachineConfig.of(1, 256),
                List.of(Drive.of("root", "/r", true, false)), List.of(), new Vsock(3, "/v.sock"));
        VmConfig extra = new VmConfig(null, new MachineConfig(2, 512, true, null, null, true),
                List.of(Drive.of("data", "/d", false, true)), List.of(), new Vsock(9, "/their.sock"), Balloon.of(64, true), null,
                null, null, null, null);
        VmConfig merged = ConfigMerge.merge(own, extra);
        assertThat(merged.drives()).extracting(Drive::driveId).containsExactly("root", "data");
        assertThat(merged.machineConfig().vcpuCount()).isEqualTo(2);
        assertThat(merged.balloon()).isEqualTo(Balloon.of(64, true));
        assertThat(merged.vsock()).as("SmartVM's socket, the file's CID").isEqualTo(new Vsock(9, "/v.sock"));
        assertThat(merged.bootSource()).isEqualTo(own.bootSource());
    }

    /** Firecracker takes one root drive, and refuses a second only once it runs: refused before anything starts. */
    @Test
    void twoRootDrivesAreRefusedNamingThem() {
        VmConfig two = new VmConfig(null, null, List.of(Drive.of("a", "/a", true, false), Drive.of("b", "/b", true, false)),
                List.of(), null);
        assertThatThrownBy(() -> ConfigMerge.UserBoot.of(two)).isInstanceOfSatisfying(SmartVmException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT)).hasMessageContaining("two root drives (a, b");
        VmConfig own = new VmConfig(new BootSource("/k", "/i", "x"), MachineConfig.of(1, 256),
                List.of(Drive.of("root", "/r", true, false)), List.of(), new Vsock(3, "/v.sock"));
        assertThatThrownBy(() -> ConfigMerge.merge(own, new VmConfig(null, null, List.of(Drive.of("rootfs", "/x", true, false)),
                List.of(), null))).hasMessageContaining("two root drives (root, rootfs");
    }

    /** Firecracker would take them from where it runs, the VM's directory under SmartVM: they are taken from the file's. */
    @Test
    void relativePathsAreTheFilesDirectorys() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("vm"));
        Path file = Files.writeString(sub.resolve("vm_config.json"), """
                {"boot-source": {"kernel_image_path": "vmlinux", "initrd_path": "initrd.img"},
                 "drives": [{"drive_id": "rootfs", "path_on_host": "./disks/../rootfs.ext4", "is_root_device": true,
                             "is_read_only": false},
                            {"drive_id": "abs", "path_on_host": "/srv/data.img", "is_root_device": false, "is_read_only": true}],
                 "pmem": [{"id": "p", "path_on_host": "pmem.img"}], "logger": {"log_path": "fc.log"}}
                """);
        FirecrackerConfigFile.Contents c = FirecrackerConfigFile.load(file);
        assertThat(c.config().bootSource().kernelImagePath()).isEqualTo(sub.resolve("vmlinux").toString());
        assertThat(c.config().bootSource().initrdPath()).as("refused as it is").isEqualTo("initrd.img");
        assertThat(c.config().drives()).extracting(Drive::pathOnHost).containsExactly(sub.resolve("rootfs.ext4").toString(),
                "/srv/data.img");
        assertThat(c.asGiven().pmem().get(0).path("path_on_host").asText()).isEqualTo(sub.resolve("pmem.img").toString());
        assertThat(c.config().logger().logPath()).isEqualTo(sub.resolve("fc.log").toString());
    }
}

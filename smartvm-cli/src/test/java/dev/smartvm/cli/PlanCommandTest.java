package dev.smartvm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.smartvm.firecracker.FirecrackerApiSpec;
import dev.smartvm.internal.image.TestImages;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code smartvm plan}: every request it prints, for every object it can emit, validates against Firecracker's spec. */
class PlanCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final FirecrackerApiSpec SPEC = FirecrackerApiSpec.load("firecracker-v1.16.1.yaml");

    @TempDir
    Path dir;
    private StringWriter out;
    private StringWriter err;
    private Path image;

    @BeforeEach
    void setUp() throws IOException {
        System.setProperty("smartvm.home", dir.resolve("home").toString());
        out = new StringWriter();
        err = new StringWriter();
        image = TestImages.directory(dir.resolve("image"), true);
    }

    @AfterEach
    void reset() {
        System.clearProperty("smartvm.home");
    }

    private int run(String... args) {
        return Main.execute(args, new PrintWriter(out), new PrintWriter(err));
    }

    private static final String EVERYTHING = """
            {
              "machine-config": {"vcpu_count": 2, "mem_size_mib": 512, "smt": true, "huge_pages": "None", "track_dirty_pages": true},
              "drives": [{"drive_id": "data", "path_on_host": "/srv/data.ext4", "is_root_device": false, "is_read_only": true,
                          "cache_type": "Writeback", "io_engine": "Async",
                          "rate_limiter": {"bandwidth": {"size": 1048576, "refill_time": 100},
                                           "ops": {"size": 1000, "one_time_burst": 10, "refill_time": 1000}}}],
              "network-interfaces": [{"iface_id": "eth0", "host_dev_name": "sv0a1b2c3d", "guest_mac": "02:fc:00:00:00:01",
                                      "mtu": 1500, "rx_rate_limiter": {"ops": {"size": 100, "refill_time": 10}}}],
              "balloon": {"amount_mib": 64, "deflate_on_oom": true, "stats_polling_interval_s": 5,
                          "free_page_hinting": true, "free_page_reporting": true},
              "mmds-config": {"version": "V2", "network_interfaces": ["eth0"], "ipv4_address": "169.254.169.254", "imds_compat": false},
              "logger": {"level": "Debug", "log_path": "/var/log/fc.log", "show_level": true, "show_log_origin": false},
              "metrics": {"metrics_path": "/var/log/fc.metrics"},
              "entropy": {"rate_limiter": {"bandwidth": {"size": 4096, "refill_time": 100}}},
              "serial": {"serial_out_path": "/var/log/serial.log", "rate_limiter": {"size": 4096, "refill_time": 100}}
            }
            """;

    @Test
    void everyPrintedRequestConformsToTheSpec() throws IOException {
        Path config = Files.writeString(dir.resolve("fc.json"), EVERYTHING);
        assertThat(run("plan", "--backend", "firecracker", "--image", image.toString(), "--firecracker-config",
                config.toString(), "--firecracker-version", "1.16.1")).as(err.toString()).isZero();
        JsonNode plan = JSON.readTree(out.toString());
        List<String> paths = new ArrayList<>();
        for (JsonNode r : plan) {
            assertThat(r.fieldNames()).toIterable().containsExactly("method", "path", "body");
            paths.add(r.path("method").asText() + " " + r.path("path").asText());
            String template = r.path("path").asText().replaceFirst("^/drives/.*", "/drives/{drive_id}")
                    .replaceFirst("^/network-interfaces/.*", "/network-interfaces/{iface_id}");
            JsonNode schema = SPEC.bodySchema(r.path("method").asText(), template);
            assertThat(schema).as(template).isNotNull();
            assertThat(SPEC.validate(schema, r.path("body"))).as(r.toString()).isEmpty();
        }
        assertThat(paths).containsExactly("PUT /logger", "PUT /metrics", "PUT /machine-config", "PUT /boot-source",
                "PUT /drives/data", "PUT /network-interfaces/eth0", "PUT /vsock", "PUT /mmds/config", "PUT /balloon",
                "PUT /entropy", "PUT /serial", "PUT /actions");
        JsonNode boot = plan.get(3).path("body");
        assertThat(boot.path("boot_args").asText()).contains("smartvm.transport=vsock:1024").contains("smartvm.vmid=planned");
        assertThat(boot.path("kernel_image_path").asText()).isEqualTo(image.resolve("vmlinuz").toString());
    }

    @Test
    void theDefaultsNeedNoConfigFileAndOlderReleasesRefuseNewerFields() throws IOException {
        assertThat(run("plan", "--backend", "firecracker", "--image", image.toString(), "--cpus", "2", "--memory", "1024"))
                .as(err.toString()).isZero();
        JsonNode plan = JSON.readTree(out.toString());
        assertThat(plan.get(2).path("body").toString()).isEqualTo("{\"vcpu_count\":2,\"mem_size_mib\":1024}");

        Path serial = Files.writeString(dir.resolve("serial.json"), "{\"serial\": {\"serial_out_path\": \"/s.log\"}}");
        assertThat(run("plan", "--backend", "firecracker", "--image", image.toString(), "--firecracker-config",
                serial.toString(), "--firecracker-version", "1.13.0")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).startsWith("error[INVALID_ARGUMENT]: invalid VM configuration:")
                .contains("serial needs Firecracker 1.14.0 or newer; the target is 1.13.0");
    }

    /** The plan takes the steps a start takes: with --net, the interface run would attach is among the requests. */
    @Test
    void aNetworkedPlanSendsTheInterfaceRunWouldAttach() throws IOException {
        assertThat(run("plan", "--backend", "firecracker", "--image", image.toString(), "--net")).as(err.toString()).isZero();
        JsonNode plan = JSON.readTree(out.toString());
        JsonNode nic = null;
        for (JsonNode r : plan) {
            if (r.path("path").asText().startsWith("/network-interfaces/")) {
                nic = r;
            }
        }
        assertThat(nic).as(plan.toString()).isNotNull();
        assertThat(nic.path("body").path("host_dev_name").asText()).matches("sv[0-9a-f]{13}");
        assertThat(plan.get(3).path("body").path("boot_args").asText()).contains("ip=ADDRESS::");
    }

    /** QEMU is configured by its command line: the plan is that command line, the very one a start runs. */
    @Test
    void aQemuPlanIsItsCommandLine() throws IOException {
        assertThat(run("plan", "--image", image.toString(), "--accel", "tcg", "--cpus", "2")).as(err.toString()).isZero();
        JsonNode argv = JSON.readTree(out.toString());
        assertThat(argv.get(0).asText()).contains("qemu-system-x86_64");
        assertThat(argv.toString()).contains("\"microvm,accel=tcg,memory-backend=ram\"").contains("\"-smp\",\"2\"")
                .contains(image.resolve("vmlinuz").toString()).contains("smartvm.vmid=planned");
    }

    /** A config as Firecracker users have them plans as is: their kernel with the agent's args after theirs, the vsock taken over (said). */
    @Test
    void aFirecrackerUsersOwnConfigPlansAndTheTakenOverVsockIsSaid() throws Exception {
        Path kernel = Files.write(dir.resolve("vmlinux"), dev.smartvm.internal.image.TestImages.elfKernel(true));
        Path rootfs = dev.smartvm.internal.image.TestImages.ext4(dir.resolve("rootfs.ext4"));
        Path config = Files.writeString(dir.resolve("vm_config.json"), """
                {"boot-source": {"kernel_image_path": "%s", "boot_args": "console=ttyS0 reboot=k panic=1 pci=off"},
                 "drives": [{"drive_id": "rootfs", "path_on_host": "%s", "is_root_device": true, "is_read_only": true}],
                 "machine-config": {"vcpu_count": 2, "mem_size_mib": 1024}, "cpu-config": null,
                 "vsock": {"guest_cid": 3, "uds_path": "./v.sock"}, "balloon": null}
                """.formatted(kernel, rootfs));
        java.io.ByteArrayOutputStream notices = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;
        System.setErr(new java.io.PrintStream(notices, true, java.nio.charset.StandardCharsets.UTF_8)); // where the CLI's notices go
        try {
            assertThat(run("plan", "--backend", "firecracker", "--image", image.toString(), "--firecracker-config",
                    config.toString(), "--firecracker-version", "1.16.1")).as(err.toString()).isZero();
        } finally {
            System.setErr(stderr);
        }
        JsonNode boot = JSON.readTree(out.toString()).get(3).path("body");
        assertThat(boot.path("kernel_image_path").asText()).isEqualTo(kernel.toString());
        assertThat(boot.path("boot_args").asText()).startsWith("console=ttyS0 reboot=k panic=1 pci=off rdinit=/init ")
                .endsWith("smartvm.root=/dev/vda smartvm.rootfstype=ext4 smartvm.rootro=1");
        assertThat(notices.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("notice: " + config)
                .contains("the vsock is taken over for SmartVM's guest agent");
    }

    /** The bad inputs: each an error naming the key and the reason, and no VM made. */
    @Test
    void aBadFirecrackerConfigIsRefusedNamingTheKeyAndMakesNothing() throws Exception {
        Path kernel = Files.write(dir.resolve("vmlinux"), dev.smartvm.internal.image.TestImages.elfKernel(true));
        Path rootfs = dev.smartvm.internal.image.TestImages.ext4(dir.resolve("rootfs.ext4"));
        String drive = "{\"drive_id\": \"%s\", \"path_on_host\": \"" + rootfs + "\", \"is_root_device\": true, \"is_read_only\": false}";
        Map<String, String> bad = new java.util.LinkedHashMap<>();
        bad.put("{\"boot-source\": ", "cannot read the Firecracker config");
        bad.put("{\"machine-config\": {\"vcpu_count\": \"2\", \"mem_size_mib\": 512}}", "machine-config.vcpu_count must be an integer");
        bad.put("{\"pmem\": [{\"id\": \"p\", \"path_on_host\": \"/p.img\"}]}", "'pmem' needs Firecracker 1.14.0 or newer; the target is 1.13.0");
        bad.put("{\"boot-source\": {\"kernel_image_path\": \"" + kernel + "\", \"initrd_path\": \"/boot/initrd.img\"}}",
                "boot-source.initrd_path is /boot/initrd.img");
        bad.put("{\"drives\": [" + drive.formatted("a") + ", " + drive.formatted("b") + "]}", "two root drives (a, b)");
        int n = 0;
        for (Map.Entry<String, String> c : bad.entrySet()) {
            Path f = Files.writeString(dir.resolve("bad-" + n++ + ".json"), c.getKey());
            err.getBuffer().setLength(0);
            assertThat(run("plan", "--backend", "firecracker", "--image", image.toString(), "--firecracker-config", f.toString(),
                    "--firecracker-version", "1.13.0")).as(c.getKey()).isEqualTo(Main.EXIT_USAGE);
            assertThat(err.toString()).as(c.getKey()).startsWith("error[INVALID_ARGUMENT]: ").contains(c.getValue());
            if (!c.getKey().contains("pmem")) { // too new only for the plan's target: a start would fetch 1.16.1
                err.getBuffer().setLength(0);
                assertThat(run("create", "--backend", "firecracker", "--image", image.toString(), "--firecracker-config",
                        f.toString())).as(c.getKey() + err).isEqualTo(Main.EXIT_USAGE);
                assertThat(err.toString()).as(c.getKey()).startsWith("error[INVALID_ARGUMENT]: ");
            }
        }
        assertThat(dir.resolve("home").resolve("vms")).satisfiesAnyOf(p -> assertThat(p).doesNotExist(),
                p -> assertThat(p).isEmptyDirectory());
    }

    @Test
    void badInputIsAnErrorWithACode() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"boot-source\": {\"kernel_image_path\": \"/k\"}}");
        err.getBuffer().setLength(0);
        assertThat(run("plan", "--backend", "firecracker", "--image", image.toString(), "--firecracker-config", bad.toString()))
                .isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).startsWith("error[INVALID_ARGUMENT]: " + bad).contains("kernel_image_path /k does not exist");
        err.getBuffer().setLength(0);
        assertThat(run("create", "--firecracker-config", bad.toString())).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("needs the firecracker backend");
        err.getBuffer().setLength(0);
        assertThat(run("plan", "--backend", "firecracker", "--firecracker-version", "one")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("a Firecracker version looks like 1.16.1");
        assertThat(dir.resolve("home").resolve("vms")).satisfiesAnyOf(p -> assertThat(p).doesNotExist(),
                p -> assertThat(p).isEmptyDirectory());
    }
}

package dev.smartvm.internal.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JailerTest {
    @TempDir
    Path dir;

    @Test
    void argvFollowsTheJailersFlagsAndFirecrackersComeAfterTheSeparator() {
        Jailer j = new Jailer(Path.of("/opt/fc/jailer"), 1234, 1235, Path.of("/srv/jail"), 2, "smartvm", Path.of("/var/run/netns/sb"));
        assertThat(j.argv(Path.of("/opt/fc/firecracker"), "vm-1")).containsExactly("/opt/fc/jailer",
                "--id", "vm-1", "--exec-file", "/opt/fc/firecracker", "--uid", "1234", "--gid", "1235",
                "--chroot-base-dir", "/srv/jail", "--cgroup-version", "2", "--parent-cgroup", "smartvm",
                "--netns", "/var/run/netns/sb", "--", "--api-sock", "/run/firecracker.socket");
        FirecrackerLayout layout = j.layout(Path.of("/opt/fc/firecracker"), "vm-1");
        assertThat(layout.apiSocket()).isEqualTo(Path.of("/srv/jail/firecracker/vm-1/root/run/firecracker.socket"));
        assertThat(layout.vsockSocket()).isEqualTo(Path.of("/srv/jail/firecracker/vm-1/root/v.sock"));
        assertThat(layout.vmmPath(layout.vsockSocket())).isEqualTo("/v.sock");
        // unjailed, Firecracker runs in the VM directory: its own files by their names, others by their paths
        assertThat(FirecrackerLayout.plain(dir).vmmPath(dir.resolve("x"))).isEqualTo("x");
        assertThat(FirecrackerLayout.plain(dir).vmmPath(dir.resolveSibling("y"))).isEqualTo(dir.resolveSibling("y").toString());
    }

    @Test
    void stagesFilesAsHardLinksOwnedByTheJailedUserAndRemovesTheJail() throws IOException {
        Path kernel = Files.writeString(dir.resolve("vmlinux"), "kernel");
        Jailer j = Jailer.of(Path.of("/opt/fc/jailer"), 4321, 4322, dir.resolve("jails"));
        Path chroot = j.chroot(Path.of("/opt/fc/firecracker"), "vm-2");
        Path staged = j.stage(chroot, kernel, "vmlinux");
        assertThat(staged).isEqualTo(chroot.resolve("vmlinux")).hasContent("kernel");
        assertThat(Files.getAttribute(staged, "unix:nlink")).isEqualTo(2);
        assertThat(Files.getAttribute(staged, "unix:uid")).isEqualTo(4321);
        assertThat(Files.getAttribute(j.touch(chroot, "firecracker.log"), "unix:gid")).isEqualTo(4322);
        j.layout(Path.of("/opt/fc/firecracker"), "vm-2").removeFiles();
        assertThat(dir.resolve("jails/firecracker/vm-2")).doesNotExist();
        assertThat(kernel).hasContent("kernel");
    }

    /** A config file's drive is the user's file in the jail: its writes reach it; a copy is made only of a read-only one. */
    @Test
    void aConfigFilesDrivesAreLinkedIntoTheJail() throws IOException {
        Jailer j = Jailer.of(Path.of("/opt/fc/jailer"), 4321, 4322, dir.resolve("jails"));
        Path chroot = j.chroot(Path.of("/opt/fc/firecracker"), "vm-3");
        Path data = Files.writeString(dir.resolve("data.img"), "data");
        dev.smartvm.firecracker.VmConfig file = new dev.smartvm.firecracker.VmConfig(null, null,
                java.util.List.of(dev.smartvm.firecracker.Drive.of("data", data.toString(), false, false)), java.util.List.of(), null);
        assertThat(Jailer.inJail(file).drives().get(0).pathOnHost()).isEqualTo("/drive-data");
        j.link(chroot, Jailer.filesOf(file, ConfigAsGiven.NONE).get(0));
        Files.writeString(chroot.resolve("drive-data"), "written by the guest");
        assertThat(data).hasContent("written by the guest");
        Path pmem = Files.writeString(dir.resolve("pmem.img"), "pmem");
        ConfigAsGiven given = FirecrackerConfigFile.load(Files.writeString(dir.resolve("pmem.json"), "{\"pmem\": [{\"id\": \"p0\","
                + " \"path_on_host\": \"pmem.img\", \"read_only\": true}]}")).asGiven();
        assertThat(given.inJail().pmem().get(0).path("path_on_host").asText()).isEqualTo("/pmem-p0");
        assertThat(given.pmem().get(0).path("path_on_host").asText()).as("the file's own, untouched").isEqualTo(pmem.toString());
        j.link(chroot, Jailer.filesOf(new dev.smartvm.firecracker.VmConfig(null, null, java.util.List.of(), java.util.List.of(),
                null), given).get(0));
        assertThat(chroot.resolve("pmem-p0")).hasContent("pmem");
        assertThatThrownBy(() -> j.link(chroot, new Jailer.JailedFile("the drive 'gone'", dir.resolve("gone.img"), false,
                "drive-gone"))).hasMessageContaining("the drive 'gone'").hasMessageContaining("does not exist");
        Path shm = Files.createTempFile(Path.of("/dev/shm"), "smartvm-jailer-test", ".img"); // another filesystem
        try {
            Files.writeString(shm, "elsewhere");
            assertThatThrownBy(() -> j.link(chroot, new Jailer.JailedFile("the drive 'rw'", shm, false, "drive-rw")))
                    .hasMessageContaining("a writable one must be on the jail's filesystem");
            j.link(chroot, new Jailer.JailedFile("the drive 'ro'", shm, true, "drive-ro"));
            assertThat(chroot.resolve("drive-ro")).hasContent("elsewhere");
        } finally {
            Files.delete(shm);
        }
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> Jailer.of(Path.of("j"), -1, 0, Path.of("/srv"))).hasMessageContaining("uid and gid must be >= 0");
        assertThatThrownBy(() -> Jailer.of(Path.of("j"), 1, 1, Path.of("relative"))).hasMessageContaining("absolute path");
        assertThatThrownBy(() -> new Jailer(Path.of("j"), 1, 1, Path.of("/srv"), 3, null, null)).hasMessageContaining("1 or 2");
        assertThatThrownBy(() -> new Jailer(Path.of("j"), 1, 1, Path.of("/srv"), 2, "../escape", null))
                .hasMessageContaining("relative path");
    }
}

package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.internal.host.VmmLabel;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.net.HostNetwork;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code smartvm gc} on what a crash and a deleted home leave: a child JVM starts a VM on the
 * bridge (an allow rule, a published port) in a home of its own and is killed with SIGKILL, and
 * that home is deleted, so that nothing can ever reap its QEMU, TAP, lease, port or rules; this
 * test's home gets a VM directory without a record, a socket of a VM that is not running and
 * locks of a half-made template and an image no longer cached. A dry run finds all of it and
 * removes nothing; a run removes all of it, and a VM that is the user's stays.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GarbageCollectionIT extends RealVmTest {
    @Test
    void aDryRunFindsWhatNoLiveOwnerHoldsAndARunRemovesIt() throws Exception {
        boolean bridge = HostNetwork.unavailableReason() == null;
        Path other = Files.createTempDirectory(Path.of("/tmp"), "svgc");
        Path otherVm;
        String tap;
        try {
            otherVm = startAndKill(other);
            tap = bridge ? tapOf(otherVm) : null;
        } finally {
            FileTrees.delete(other); // the home goes with its VM running: no reaper can find the VM now
        }
        String otherId = otherVm.getFileName().toString();
        List<Long> qemu = VmmLabel.find(otherVm);
        assertThat(qemu).as("its QEMU (and console keeper) outlive the home").isNotEmpty();

        Path noRecord = Files.createDirectories(home.resolve("vms/0123456789ab"));
        Files.writeString(noRecord.resolve("console.log"), "boot cut short\n");
        MicroVm kept = svm.create(VmSpec.builder().name("kept").build());
        Path socket = home.resolve("vms").resolve(kept.id()).resolve("qmp.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(socket)); // the file stays after the channel closes, as a killed VMM's does
        }
        Path templateLock = Files.createDirectories(home.resolve("templates")).resolve(".partial-0badf00d.lock");
        Files.writeString(templateLock, "");
        Path imageLock = Files.createDirectories(sharedImages().resolve("base")).resolve(".lock-gc-test-gone");
        Files.writeString(imageLock, "");

        try (SmartVm gc = SmartVm.builder().home(home).imagesDir(sharedImages()).reapAtOpen(false).build()) {
            List<Leftover> dry = gc.collectGarbage(true);
            assertThat(dry).extracting(Leftover::failure).containsOnlyNulls();
            assertThat(dry).extracting(l -> l.kind() + " " + l.name()).contains(
                    "VMM " + otherVm, "VM_DIRECTORY " + noRecord, "SOCKET " + socket, "LOCK " + templateLock,
                    "LOCK " + imageLock);
            if (bridge) {
                assertThat(dry).extracting(l -> l.kind() + " " + l.name()).contains("TAP " + tap, "NFT_RULES vm-" + otherId);
                for (Leftover.Kind kind : List.of(Leftover.Kind.LEASE, Leftover.Kind.PORT)) {
                    assertThat(dry).filteredOn(l -> l.kind() == kind).extracting(Leftover::reason).as(kind.name())
                            .anyMatch(r -> r.contains(otherId));
                }
            }
            assertThat(VmmLabel.find(otherVm)).as("a dry run kills nothing").isEqualTo(qemu);
            assertThat(List.of(noRecord, socket, templateLock, imageLock)).as("and deletes nothing").allMatch(Files::exists);
            if (bridge) {
                assertThat(linkExists(tap)).isTrue();
            }

            List<Leftover> removed = gc.collectGarbage(false);
            assertThat(removed).extracting(Leftover::failure).containsOnlyNulls();
            assertThat(removed).extracting(l -> l.kind() + " " + l.name()).containsAll(
                    dry.stream().map(l -> l.kind() + " " + l.name()).toList());
            assertThat(VmmLabel.find(otherVm)).as("its QEMU was killed").isEmpty();
            assertThat(List.of(noRecord, socket, templateLock, imageLock)).as("the files are gone").noneMatch(Files::exists);
            if (bridge) {
                assertThat(linkExists(tap)).as("its TAP is gone").isFalse();
                assertThat(sh("nft list ruleset")).as("its rules are gone").doesNotContain(otherId);
                assertThat(Files.readString(Path.of(HostNetwork.DEFAULT_STATE_DIR, "leases.json"))).doesNotContain(otherId);
                assertThat(Files.readString(Path.of(HostNetwork.DEFAULT_STATE_DIR, "ports.json"))).doesNotContain(otherId);
            }
            assertThat(gc.get("kept")).as("the user's VM stays").isPresent();
            assertThat(gc.collectGarbage(true)).extracting(Leftover::name).as("nothing of it is found again")
                    .noneMatch(n -> n.contains(otherId) || n.startsWith(home.toString()) || n.equals(tap));
        }
        kept.remove();
    }

    /** Starts the child, waits for its VM to run, kills the child with SIGKILL; the VM's directory. */
    private Path startAndKill(Path other) throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), StartInChild.class.getName(),
                other.toString(), sharedImages().toString(), "networked")
                .redirectErrorStream(true).redirectOutput(other.resolve("child.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        try {
            while (!Files.readString(other.resolve("child.log")).contains("started")) {
                assertThat(child.isAlive()).as("child log: " + Files.readString(other.resolve("child.log"))).isTrue();
                assertThat(System.nanoTime()).as("the child's VM did not start").isLessThan(deadline);
                Thread.sleep(20);
            }
        } finally {
            child.destroyForcibly();
            child.waitFor();
        }
        try (var dirs = Files.list(other.resolve("vms"))) {
            return dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
    }

    private static String tapOf(Path vmDir) throws IOException {
        return Json.MAPPER.readTree(vmDir.resolve("vm.json").toFile()).path("network").path("tap").asText();
    }

    private static boolean linkExists(String name) throws Exception {
        return new ProcessBuilder("ip", "link", "show", name).start().waitFor() == 0;
    }

    private static String sh(String command) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}

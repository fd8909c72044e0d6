package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.internal.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * kill -9 of the process starting a VM at the worst moment: its QEMU exists, its pid is not yet
 * recorded. The next SmartVm on the same home must leave no QEMU behind.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CrashSafetyIT extends RealVmTest {
    private Process child(String mode) throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), StartInChild.class.getName(),
                home.toString(), sharedImages().toString(), mode)
                .redirectErrorStream(true).redirectOutput(home.resolve("child.log").toFile()).start();
    }

    /**
     * A child JVM saves snapshot after snapshot of its VM, and is killed with SIGKILL in the
     * middle of one (its hidden directory exists): the next SmartVm removes the half-made one,
     * and the VM of the dead owner with its QEMU; whole snapshots stay.
     */
    @Test
    void aSaveCutShortByKill9LeavesNoHalfSnapshot() throws Exception {
        Process child = child("snapshotting");
        Path snapshots = home.resolve("snapshots");
        killChildWhen(child, Duration.ofSeconds(90), "no save under way", () -> hasPartial(snapshots));
        assertThat(hasPartial(snapshots)).as("the half-made snapshot is there until someone reaps it").isTrue();
        long qemu = qemuOf(home).orElseThrow();
        try (SmartVm next = SmartVm.builder().home(home).imagesDir(sharedImages()).build()) {
            assertThat(hasPartial(snapshots)).as("the next SmartVm removed it").isFalse();
            assertThat(next.list()).as("and the dead owner's VM").isEmpty();
            for (SnapshotInfo whole : next.snapshots()) {
                assertThat(whole.directory().resolve("state.bin")).exists();
                next.removeSnapshot(whole.name());
            }
        }
        assertThat(gone(qemu)).as("its QEMU was killed").isTrue();
        try (Stream<Path> left = Files.list(snapshots)) {
            assertThat(left.toList()).as("nothing else under snapshots/").isEmpty();
        }
    }

    /**
     * A child JVM makes templates and clones of them, one after another, and is killed with
     * SIGKILL while it makes a template ({@code duringClone} false: its hidden directory, with
     * the memory file QEMU writes through, exists) or while a clone's QEMU starts: the next
     * SmartVm leaves no half template, no memory file, no VM and no QEMU.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aTemplateOrCloneCutShortByKill9LeavesNothingHalf(boolean duringClone) throws Exception {
        Process child = child("templating");
        Path templates = home.resolve("templates");
        killChildWhen(child, Duration.ofSeconds(120), "not there yet", () -> duringClone
                ? qemuOf(home).filter(pid -> commandLine(pid).contains("share=off")).isPresent() : hasPartial(templates));
        Optional<Long> qemu = qemuOf(home);
        try (SmartVm next = SmartVm.builder().home(home).imagesDir(sharedImages()).build()) {
            assertThat(hasPartial(templates)).as("the next SmartVm removed the half template").isFalse();
            assertThat(next.list()).as("and the dead owner's VMs").isEmpty();
            for (TemplateInfo whole : next.templates()) {
                assertThat(whole.directory().resolve("memory")).exists();
                assertThat(whole.directory().resolve("state.bin")).exists();
                next.removeTemplate(whole.name());
            }
        }
        if (qemu.isPresent()) {
            assertThat(gone(qemu.get())).as("its QEMU was killed").isTrue();
        }
        try (Stream<Path> left = Files.list(templates)) {
            assertThat(left.toList()).as("nothing else under templates/: no memory file").isEmpty();
        }
    }

    /**
     * A child JVM forks a VM again and again, and is killed with SIGKILL while the QEMU that turns
     * the saved state into the fork's template runs (its pid file is there): the next SmartVm
     * kills that QEMU and leaves no half template, no VM and no QEMU.
     */
    @Test
    void aForkCutShortByKill9LeavesNothingHalf() throws Exception {
        Process child = child("forking");
        Path templates = home.resolve("templates");
        Path[] found = new Path[1];
        killChildWhen(child, Duration.ofSeconds(120), "no fork under way", () -> (found[0] = loaderPidFile(templates)) != null);
        Path pidFile = found[0];
        List<Long> qemus = new java.util.ArrayList<>();
        qemuOf(home).ifPresent(qemus::add);
        try {
            qemus.add(Long.parseLong(Files.readString(pidFile).strip().split(" ")[0]));
        } catch (IOException | RuntimeException e) {
            // the loader finished before the kill: its pid file went with it
        }
        try (SmartVm next = SmartVm.builder().home(home).imagesDir(sharedImages()).build()) {
            assertThat(hasPartial(templates)).as("the next SmartVm removed the half template").isFalse();
            assertThat(next.list()).as("and the dead owner's VMs").isEmpty();
            next.templates().forEach(t -> next.removeTemplate(t.name()));
        }
        for (long pid : qemus) {
            assertThat(gone(pid)).as("QEMU " + pid + " was killed").isTrue();
        }
        try (Stream<Path> left = Files.list(templates)) {
            assertThat(left.toList()).as("nothing else under templates/").isEmpty();
        }
    }

    private static Path loaderPidFile(Path templates) throws IOException {
        if (!Files.isDirectory(templates)) {
            return null;
        }
        try (Stream<Path> all = Files.list(templates)) {
            return all.map(p -> p.resolve("vmm.pid")).filter(Files::exists).findFirst().orElse(null);
        }
    }

    private static String commandLine(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static boolean hasPartial(Path snapshots) throws IOException {
        if (!Files.isDirectory(snapshots)) {
            return false;
        }
        try (Stream<Path> all = Files.list(snapshots)) {
            return all.anyMatch(p -> p.getFileName().toString().startsWith(".partial-") && Files.isDirectory(p));
        }
    }

    /**
     * Polls {@code ready} until it holds, then kills {@code child} with SIGKILL and waits for it;
     * fails, with the child's log, when {@code limit} passes first. The child is killed either way.
     */
    private void killChildWhen(Process child, Duration limit, String notYet, java.util.concurrent.Callable<Boolean> ready)
            throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        try {
            while (!ready.call()) {
                assertThat(System.nanoTime()).as(notYet + "; child log: " + Files.readString(home.resolve("child.log")))
                        .isLessThan(deadline);
                Thread.sleep(1);
            }
            child.destroyForcibly();
            child.waitFor();
        } finally {
            child.destroyForcibly();
        }
    }

    /** Starts a child JVM that starts a VM, and kills it with SIGKILL as soon as that VM's QEMU runs; the QEMU's pid. */
    private long killStarterOnceQemuRuns(String mode) throws Exception {
        Process child = child(mode);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        try {
            while (System.nanoTime() < deadline) {
                Optional<Long> qemu = qemuOf(home);
                if (qemu.isPresent()) {
                    child.destroyForcibly();
                    child.waitFor();
                    JsonNode record = recordOfOnlyVm();
                    System.err.println("starter killed; its record said pid " + record.get("pid") + ", state "
                            + record.get("state"));
                    assertThat(ProcessHandle.of(qemu.get()).map(ProcessHandle::isAlive)).as("QEMU outlives its starter")
                            .contains(true);
                    return qemu.get();
                }
                Thread.sleep(1);
            }
            throw new AssertionError("no QEMU appeared; child log: " + Files.readString(home.resolve("child.log")));
        } finally {
            child.destroyForcibly();
        }
    }

    /** A QEMU whose command line names a VM under {@code home}, found by reading /proc directly (fast). */
    private static Optional<Long> qemuOf(Path home) throws IOException {
        String needle = home + "/vms/";
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmd.contains(needle) && cmd.contains("qemu-system")) {
                        return Optional.of(Long.parseLong(name));
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return Optional.empty();
    }

    private JsonNode recordOfOnlyVm() throws IOException {
        try (Stream<Path> dirs = Files.list(home.resolve("vms"))) {
            List<Path> vms = dirs.filter(Files::isDirectory).toList();
            assertThat(vms).hasSize(1);
            return Json.MAPPER.readTree(vms.get(0).resolve("vm.json").toFile());
        }
    }

    private static boolean gone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            if (!dev.smartvm.internal.host.HostProcess.isRunning(pid, null)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    @Test
    void theQemuOfAnOwnerKilledMidStartIsKilledByTheNextSmartVm() throws Exception {
        long qemu = killStarterOnceQemuRuns("owned");
        try (SmartVm next = SmartVm.builder().home(home).imagesDir(sharedImages()).build()) {
            assertThat(next.list()).as("the orphan's VM is removed").isEmpty();
        }
        assertThat(gone(qemu)).as("its QEMU was killed").isTrue();
    }

    @Test
    void aDetachedVmWhoseStarterDiedIsStoppedAndItsQemuKilled() throws Exception {
        long qemu = killStarterOnceQemuRuns("detached");
        try (SmartVm next = SmartVm.builder().home(home).imagesDir(sharedImages()).build()) {
            MicroVm vm = next.get("child").orElseThrow();
            assertThat(vm.state()).isEqualTo(VmState.STOPPED);
            assertThat(vm.info().stopReason()).contains("the process starting it died");
            assertThat(gone(qemu)).as("its QEMU was killed").isTrue();
            vm.start(); // and it can be started again
            assertThat(vm.exec("echo", "up").stdout()).isEqualTo("up\n");
            vm.remove();
        }
    }
}

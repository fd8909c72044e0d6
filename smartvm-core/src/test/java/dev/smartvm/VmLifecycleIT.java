package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The VM state machine against a real VMM: pause, resume, stop, restart, panics and failed boots. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class VmLifecycleIT extends RealVmTest {
    @TempDir
    Path dir;

    private static void assertCode(Throwable t, ErrorCode code) {
        assertThat(t).isInstanceOf(SmartVmException.class);
        assertThat(((SmartVmException) t).code()).isEqualTo(code);
    }

    @Test
    void refusesOperationsTheStateDoesNotAllow() {
        try (MicroVm vm = svm.create(VmSpec.builder().build())) {
            assertThat(vm.state()).isEqualTo(VmState.CREATED);
            assertCode(org.assertj.core.api.Assertions.catchThrowable(vm::pause), ErrorCode.INVALID_STATE);
            assertCode(org.assertj.core.api.Assertions.catchThrowable(() -> vm.exec("true")), ErrorCode.INVALID_STATE);
            assertCode(org.assertj.core.api.Assertions.catchThrowable(vm::stop), ErrorCode.INVALID_STATE);
        }
    }

    @Test
    void pausesResumesStopsAndStartsAgain() {
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            vm.exec("sh", "-c", "echo kept > /tmp/state");
            vm.pause();
            assertThat(vm.state()).isEqualTo(VmState.PAUSED);
            assertThatThrownBy(() -> vm.exec("true")).hasMessageContaining("paused");
            assertCode(org.assertj.core.api.Assertions.catchThrowable(vm::pause), ErrorCode.INVALID_STATE);
            vm.resume();
            assertThat(vm.exec("cat", "/tmp/state").stdout()).as("memory survives a pause").isEqualTo("kept\n");

            long pid = vm.info().pid();
            vm.stop();
            assertThat(vm.state()).isEqualTo(VmState.STOPPED);
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertCode(org.assertj.core.api.Assertions.catchThrowable(() -> vm.exec("true")), ErrorCode.INVALID_STATE);
            assertCode(org.assertj.core.api.Assertions.catchThrowable(vm::resume), ErrorCode.INVALID_STATE);

            vm.start();
            assertThat(vm.exec("echo", "again").stdout()).isEqualTo("again\n");
        }
    }

    @Test
    void aPausedVmCanBeStopped() {
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            vm.pause();
            vm.stop();
            assertThat(vm.state()).isEqualTo(VmState.STOPPED);
        }
    }

    @Test
    void aGuestPanicStopsTheVmWithTheReason() {
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            long pid = vm.info().pid();
            Throwable t = org.assertj.core.api.Assertions.catchThrowable(
                    () -> vm.exec("sh", "-c", "echo c > /proc/sysrq-trigger"));
            assertCode(t, ErrorCode.VM_STOPPED);
            assertThat(t).hasMessageContaining("Kernel panic");
            assertThat(vm.state()).isEqualTo(VmState.STOPPED);
            assertThat(vm.info().stopReason()).contains("Kernel panic");
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertCode(org.assertj.core.api.Assertions.catchThrowable(() -> vm.exec("true")), ErrorCode.INVALID_STATE);
        }
    }

    @Test
    void aGuestThatPanicsWithoutResettingIsTerminated() throws Exception {
        try (MicroVm vm = svm.start(VmSpec.builder().build())) {
            // The console shows a panic but the guest goes on: the watcher must end it.
            vm.exec("sh", "-c", "echo 'Kernel panic - not syncing: simulated' > /dev/console");
            long pid = vm.info().pid();
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                Thread.sleep(100); // bounded by the class timeout
            }
            assertThat(vm.state()).isEqualTo(VmState.STOPPED);
            assertThat(vm.info().stopReason()).contains("simulated");
        }
    }

    @Test
    void closeFinishesOnAnInterruptedThread() {
        MicroVm vm = svm.start(VmSpec.builder().build());
        long pid = vm.info().pid();
        Thread.currentThread().interrupt();
        try {
            vm.close();
        } finally {
            assertThat(Thread.interrupted()).as("the interrupt is kept for the caller").isTrue();
        }
        assertThat(vm.state()).isEqualTo(VmState.REMOVED);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }

    @Test
    void aBootFailureShowsTheConsoleAndLeavesNothing() throws IOException {
        Path image = Files.createDirectories(dir.resolve("broken-image"));
        Path good = Internals.images(svm).resolve("default").kernel();
        Files.copy(good, image.resolve("vmlinuz"));
        Files.writeString(image.resolve("initramfs.cpio"), "this is not a cpio archive");
        Files.writeString(image.resolve("image.json"), """
                {"id":"broken","kernelPackage":"test","kernelVersion":"0","busyboxVersion":"0","agentSha256":"0",
                 "modules":[],"createdAt":"2026-01-01T00:00:00Z"}""");
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(
                () -> svm.start(VmSpec.builder().image(image.toString()).build()));
        assertCode(t, ErrorCode.BOOT_FAILED);
        assertThat(t).hasMessageContaining("last console lines").hasMessageContaining("Kernel panic");
        assertThat(svm.count()).isZero();
    }

    /**
     * The initramfs's modules are for the image's kernel: under another kernel (a Firecracker
     * config's own) the agent loads none and says so. Here the initramfs is told it is for
     * another kernel by a second archive the kernel unpacks over the first.
     */
    @Test
    void modulesForAnotherKernelAreNotLoadedAndTheConsoleSaysSo() throws IOException {
        Path image = Files.createDirectories(dir.resolve("other-kernel-image"));
        dev.smartvm.internal.image.ImageBundle good = Internals.images(svm).resolve("default");
        Files.copy(good.kernel(), image.resolve("vmlinuz"));
        Files.copy(good.initrd(), image.resolve("initramfs.cpio"));
        try (var out = Files.newOutputStream(image.resolve("initramfs.cpio"), java.nio.file.StandardOpenOption.APPEND);
                var cpio = new org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream(out,
                        org.apache.commons.compress.archivers.cpio.CpioConstants.FORMAT_NEW)) {
            byte[] release = "0.0.0-another-kernel\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            var entry = new org.apache.commons.compress.archivers.cpio.CpioArchiveEntry("lib/modules/smartvm.release",
                    release.length);
            entry.setMode(org.apache.commons.compress.archivers.cpio.CpioConstants.C_ISREG | 0644);
            cpio.putArchiveEntry(entry);
            cpio.write(release);
            cpio.closeArchiveEntry();
        }
        Files.writeString(image.resolve("image.json"), """
                {"id":"other-kernel","kernelPackage":"test","kernelVersion":"0","busyboxVersion":"0","agentSha256":"0",
                 "modules":[],"createdAt":"2026-01-01T00:00:00Z"}""");
        String console;
        try (MicroVm vm = svm.start(VmSpec.builder().image(image.toString()).bootTimeout(java.time.Duration.ofSeconds(40)).build())) {
            console = Files.readString(vm.consoleLog()); // booted: what it needed is built into this kernel
        } catch (SmartVmException e) {
            console = e.getMessage(); // did not: the console's last lines are in the error
        }
        assertThat(console).contains("the initramfs's modules are for kernel 0.0.0-another-kernel, this one is ");
        assertThat(svm.count()).isZero();
    }

    @Test
    void aMissingImageFailsBeforeAnythingStarts() {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(
                () -> svm.start(VmSpec.builder().image("no-such-image").build()));
        assertCode(t, ErrorCode.IMAGE_NOT_FOUND);
        assertThat(svm.count()).isZero();
        try (MicroVm vm = svm.create(VmSpec.builder().image("/no/such/image").build())) {
            Throwable failed = org.assertj.core.api.Assertions.catchThrowable(vm::start);
            assertCode(failed, ErrorCode.IMAGE_NOT_FOUND);
            assertThat(failed).as("the error names the boot step").hasMessageContaining("resolve image failed");
            assertThat(vm.state()).as("no VMM ever ran: the VM is as it was").isEqualTo(VmState.CREATED);
        }
    }

    @Test
    void namesAreUnique() {
        try (MicroVm first = svm.create(VmSpec.builder().name("twin").build())) {
            assertCode(org.assertj.core.api.Assertions.catchThrowable(() -> svm.create(VmSpec.builder().name("twin").build())),
                    ErrorCode.NAME_IN_USE);
            assertThat(svm.get("twin")).containsSame(first);
        }
        assertThat(svm.get("twin")).isEmpty();
    }

    @Test
    void closingTheSmartVmStopsEverythingItMade() throws IOException {
        Path otherHome = Files.createTempDirectory(Path.of("/tmp"), "svt2");
        SmartVm other = SmartVm.builder().home(otherHome).imagesDir(sharedImages()).build();
        MicroVm a = other.start(VmSpec.builder().build());
        long pid = a.info().pid();
        other.close();
        other.close();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        try (var left = Files.list(otherHome.resolve("vms"))) {
            assertThat(left.filter(Files::isDirectory).toList()).isEmpty();
        }
        try (var all = Files.walk(otherHome)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

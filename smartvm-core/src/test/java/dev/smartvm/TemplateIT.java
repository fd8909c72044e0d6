package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.io.Hashing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Templates under QEMU: clones start where their template was prepared, and stay apart from it and from each other. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TemplateIT extends RealVmTest {
    @TempDir
    Path dir;

    @Test
    void clonesStartWherePreparedAndStayApart() throws Exception {
        ImageBundle base = Internals.images(svm).resolve("default");
        Path image = TestRootDisks.image(base, dir, "on the root disk\n", "template-test");
        VmSpec spec = VmSpec.builder().image(image.toString()).env("FROM_TEMPLATE", "yes").build();
        TemplateInfo t = svm.createTemplate("counter", spec, List.of(GuestCounter.START, "echo prepared > /tmp/mem",
                "echo prepared-disk > /etc/disk && sync"));
        assertThat(t.name()).isEqualTo("counter");
        assertThat(t.backend()).isEqualTo("qemu");
        assertThat(t.prepare()).hasSize(3);
        assertThat(t.sizeBytes()).isPositive();
        assertThat(svm.templates()).extracting(TemplateInfo::name).containsExactly("counter");
        assertThat(svm.list()).as("the template's VM is gone once saved").isEmpty();
        Path memory = t.directory().resolve("memory");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(memory))).isEqualTo("r--r--r--");
        String memoryHash = Hashing.sha256(memory);
        String diskHash = Hashing.sha256(t.directory().resolve("root.qcow2"));

        try (MicroVm a = svm.start(VmSpec.builder().template("counter").name("clone-a").env("ONLY_A", "1").build());
                MicroVm b = svm.start(VmSpec.builder().template("counter").name("clone-b").build())) {
            for (MicroVm vm : List.of(a, b)) {
                assertThat(vm.exec("cat", "/tmp/mem").stdout()).as("memory as prepared").isEqualTo("prepared\n");
                assertThat(vm.exec("cat", "/etc/disk").stdout()).as("the disk as prepared").isEqualTo("prepared-disk\n");
                GuestCounter.risesAbove(vm, GuestCounter.value(vm));
                long guest = Long.parseLong(vm.exec("busybox", "date", "+%s").stdout().strip());
                assertThat(Math.abs(guest - Instant.now().getEpochSecond())).as("the clone's clock").isLessThanOrEqualTo(2);
                assertThat(vm.exec("sh", "-c", "echo $FROM_TEMPLATE").stdout()).as("the template's env").isEqualTo("yes\n");
            }
            assertThat(a.exec("sh", "-c", "echo $ONLY_A").stdout()).isEqualTo("1\n");
            for (MicroVm vm : List.of(a, b)) { // not the template VM's, whose kernel they run
                assertThat(vm.exec("cat", "/proc/sys/kernel/hostname").stdout()).as("hostname").isEqualTo(vm.name() + "\n");
                assertThat(vm.exec("cat", "/run/smartvm/vm-id").stdout()).as("VM id").isEqualTo(vm.id() + "\n");
            }
            assertThat(a.info().spec().memoryMib()).isEqualTo(spec.memoryMib());
            a.exec("sh", "-c", "echo from-a > /tmp/mem; echo from-a > /etc/disk; sync; head -c 32M /dev/urandom > /tmp/big");
            b.exec("sh", "-c", "echo from-b > /tmp/mem; echo from-b > /etc/disk; sync");
            assertThat(a.exec("sh", "-c", "cat /tmp/mem /etc/disk").stdout()).isEqualTo("from-a\nfrom-a\n");
            assertThat(b.exec("sh", "-c", "cat /tmp/mem /etc/disk").stdout()).isEqualTo("from-b\nfrom-b\n");
            String uuid = "cat /proc/sys/kernel/random/uuid";
            assertThat(a.exec("sh", "-c", uuid).stdout()).as("clones draw different random numbers")
                    .isNotEqualTo(b.exec("sh", "-c", uuid).stdout());

            assertCode(catchThrowable(() -> svm.removeTemplate("counter")), ErrorCode.TEMPLATE_IN_USE);

            a.snapshot("of-a-clone"); // its memory is private: saved whole, restored into ordinary memory
            try (MicroVm restored = svm.restore("of-a-clone", null)) {
                assertThat(restored.exec("cat", "/tmp/mem").stdout()).isEqualTo("from-a\n");
            } finally {
                svm.removeSnapshot("of-a-clone");
            }
            List<MicroVm> forked = a.fork(1); // the same for a fork of a clone
            assertThat(forked.get(0).exec("cat", "/tmp/mem").stdout()).isEqualTo("from-a\n");
            forked.get(0).close();

            b.stop();
            b.start(); // a stopped clone boots its image, with its own disk
            assertThat(b.exec("cat", "/etc/disk").stdout()).isEqualTo("from-b\n");
            assertThat(b.exec("sh", "-c", "cat /tmp/mem 2>/dev/null || echo none").stdout()).isEqualTo("none\n");
        }
        assertThat(Hashing.sha256(memory)).as("clones never write the template's memory").isEqualTo(memoryHash);
        assertThat(Hashing.sha256(t.directory().resolve("root.qcow2"))).as("nor its disk").isEqualTo(diskHash);

        svm.removeTemplate("counter");
        assertThat(svm.templates()).isEmpty();
        assertThat(t.directory()).doesNotExist();
        assertCode(catchThrowable(() -> svm.create(VmSpec.builder().template("counter").build())), ErrorCode.TEMPLATE_NOT_FOUND);
        assertCode(catchThrowable(() -> svm.removeTemplate("counter")), ErrorCode.TEMPLATE_NOT_FOUND);
    }

    @org.junit.jupiter.api.AfterEach
    void removeTemplates() {
        svm.list().forEach(vm -> svm.get(vm.id()).ifPresent(MicroVm::remove));
        svm.templates().forEach(t -> svm.removeTemplate(t.name()));
    }

    @Test
    void aFailingPrepareCommandLeavesNothing() throws Exception {
        Throwable t = catchThrowable(() -> svm.createTemplate("bad", VmSpec.builder().build(),
                List.of("true", "echo it went wrong >&2; exit 3", "touch /never")));
        assertCode(t, ErrorCode.PREPARE_FAILED);
        assertThat(t).hasMessageContaining("exited with 3").hasMessageContaining("it went wrong");
        assertThat(svm.templates()).isEmpty();
        assertThat(svm.list()).isEmpty();
        try (Stream<Path> left = Files.list(home.resolve("templates"))) {
            assertThat(left.toList()).as("no half template, no memory file").isEmpty();
        }
    }

    @Test
    void aPoolHandsOutWarmClonesAndRefills() throws Exception {
        svm.createTemplate("pooled", VmSpec.builder().build(), List.of("echo prepared > /tmp/mem"));
        try (SmartVm pooling = SmartVm.builder().home(home).imagesDir(sharedImages()).pool("pooled", 2).build()) {
            awaitPaused(pooling, 2);
            Thread.sleep(3000); // the pooled clones' clocks stand still meanwhile
            MicroVm vm = pooling.start(VmSpec.builder().template("pooled").name("handed").env("K", "v").build());
            assertThat(vm.name()).isEqualTo("handed");
            assertThat(vm.state()).isEqualTo(VmState.RUNNING);
            assertThat(vm.exec("sh", "-c", "cat /tmp/mem; echo $K").stdout()).isEqualTo("prepared\nv\n");
            long guest = Long.parseLong(vm.exec("date", "+%s").stdout().strip());
            assertThat(Math.abs(guest - Instant.now().getEpochSecond())).as("a handed-out clone's clock").isLessThanOrEqualTo(2);
            assertThat(pooling.get("handed")).isPresent();
            assertThat(vm.exec("cat", "/proc/sys/kernel/hostname").stdout()).isEqualTo("handed\n");
            assertThat(vm.exec("cat", "/run/smartvm/vm-id").stdout()).isEqualTo(vm.id() + "\n");
            assertCode(catchThrowable(() -> pooling.start(VmSpec.builder().template("pooled").name("handed").build())),
                    ErrorCode.NAME_IN_USE);
            awaitPaused(pooling, 2); // refilled
            assertCode(catchThrowable(() -> svm.removeTemplate("pooled")), ErrorCode.TEMPLATE_IN_USE);
        }
        assertThat(svm.list()).as("the pool's clones went with it").isEmpty();
    }

    private static void awaitPaused(SmartVm svm, int n) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            if (svm.list().stream().filter(v -> v.state() == VmState.PAUSED).count() >= n) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the pool never held " + n + " clones: " + svm.list());
    }

    @Test
    void badRequestsAreRefusedClearly() {
        assertCode(catchThrowable(() -> svm.start(VmSpec.builder().template("nothing").build())), ErrorCode.TEMPLATE_NOT_FOUND);
        assertCode(catchThrowable(() -> svm.createTemplate("bad name!", VmSpec.builder().build(), List.of())),
                ErrorCode.INVALID_ARGUMENT);
        svm.createTemplate("no-net", VmSpec.builder().build(), List.of());
        assertCode(catchThrowable(() -> svm.create(VmSpec.builder().template("no-net").network(NetworkSpec.enabled(List.of(),
                List.of())).build())), ErrorCode.UNSUPPORTED);
        svm.removeTemplate("no-net");
        assertThat(svm.list()).isEmpty();
        assertThat(svm.templates()).isEmpty();
    }

    private static void assertCode(Throwable t, ErrorCode code) {
        assertThat(t).isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).as(e.getMessage()).isEqualTo(code));
    }
}

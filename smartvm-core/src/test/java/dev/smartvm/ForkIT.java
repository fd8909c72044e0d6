package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Fork under QEMU: children continue from the source's exact state, apart from it and from each other. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ForkIT extends RealVmTest {
    @Test
    void childrenContinueFromTheSourcesStateAndStayApart() throws Exception {
        try (MicroVm source = svm.start(VmSpec.builder().name("parent").env("FROM", "parent").build())) {
            source.exec("sh", "-c", GuestCounter.START);
            source.exec("sh", "-c", "echo before-fork > /tmp/state");
            int before = GuestCounter.risesAbove(source, 0);

            List<MicroVm> children = source.fork(2);
            assertThat(children).hasSize(2);
            assertThat(source.state()).as("the source goes on").isEqualTo(VmState.RUNNING);
            int sourceAfter = GuestCounter.risesAbove(source, before);
            TemplateInfo base = svm.templates().stream().filter(t -> "parent".equals(t.forkedFrom())).findFirst().orElseThrow();
            String memoryHash = dev.smartvm.internal.io.Hashing.sha256(base.directory().resolve("memory"));
            for (MicroVm child : children) {
                assertThat(child.state()).isEqualTo(VmState.RUNNING);
                assertThat(child.id()).isNotEqualTo(source.id());
                assertThat(child.exec("cat", "/tmp/state").stdout()).as("memory as forked").isEqualTo("before-fork\n");
                assertThat(child.exec("sh", "-c", "echo $FROM").stdout()).isEqualTo("parent\n");
                assertThat(child.exec("cat", "/proc/sys/kernel/hostname").stdout()).isEqualTo(child.name() + "\n");
                assertThat(child.exec("cat", "/run/smartvm/vm-id").stdout()).isEqualTo(child.id() + "\n");
                int at = GuestCounter.value(child);
                assertThat(at).as("the counter went on from where it was forked").isBetween(before, sourceAfter + 50);
                GuestCounter.risesAbove(child, at);
            }
            children.get(0).exec("sh", "-c", "echo child-0 > /tmp/state");
            children.get(1).exec("sh", "-c", "echo child-1 > /tmp/state");
            source.exec("sh", "-c", "echo parent > /tmp/state");
            assertThat(children.get(0).exec("cat", "/tmp/state").stdout()).isEqualTo("child-0\n");
            assertThat(children.get(1).exec("cat", "/tmp/state").stdout()).isEqualTo("child-1\n");
            assertThat(source.exec("cat", "/tmp/state").stdout()).isEqualTo("parent\n");
            String uuid = "cat /proc/sys/kernel/random/uuid";
            assertThat(children.get(0).exec("sh", "-c", uuid).stdout()).as("children draw different random numbers")
                    .isNotEqualTo(children.get(1).exec("sh", "-c", uuid).stdout());
            assertThat(dev.smartvm.internal.io.Hashing.sha256(base.directory().resolve("memory")))
                    .as("children never write the memory they share").isEqualTo(memoryHash);

            children.get(0).close();
            assertThat(svm.templates()).as("the fork's template stays while a child lives").hasSize(1);
            children.get(1).close();
            assertThat(svm.templates()).as("and goes with the last child").isEmpty();
            assertThat(base.directory()).doesNotExist();
            assertThat(GuestCounter.value(source)).isGreaterThan(sourceAfter);
        }
        try (Stream<Path> left = Files.list(home.resolve("templates"))) {
            assertThat(left.toList()).isEmpty();
        }
    }

    @Test
    void onlyARunningOrPausedVmForks() {
        try (MicroVm vm = svm.create(VmSpec.builder().build())) {
            assertCode(catchThrowable(() -> vm.fork(1)), ErrorCode.INVALID_STATE);
            vm.start();
            assertCode(catchThrowable(() -> vm.fork(0)), ErrorCode.INVALID_ARGUMENT);
            assertCode(catchThrowable(() -> vm.fork(65)), ErrorCode.INVALID_ARGUMENT);
            vm.pause();
            List<MicroVm> one = vm.fork(1); // a paused VM forks too, and stays paused
            assertThat(vm.state()).isEqualTo(VmState.PAUSED);
            assertThat(one.get(0).exec("true").exitCode()).isZero();
            one.get(0).close();
        }
        assertThat(svm.list()).isEmpty();
        assertThat(svm.templates()).isEmpty();
    }

    private static void assertCode(Throwable t, ErrorCode code) {
        assertThat(t).isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).as(e.getMessage()).isEqualTo(code));
    }
}

package dev.smartvm.internal.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.Acceleration;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccelerationProbeTest {
    @TempDir
    Path dir;

    private AccelerationProbe probe() {
        return new AccelerationProbe(dir.resolve("kvm"), dir.resolve("module"), dir.resolve("accel.json"));
    }

    @Test
    void noKvmDeviceMeansTcgWithoutAProbe() {
        AccelerationProbe.Verdict v = probe().decide(Acceleration.AUTO, () -> {
            throw new AssertionError("no probe boot without /dev/kvm");
        });
        assertThat(v.acceleration()).isEqualTo(Acceleration.TCG);
        assertThat(v.reason()).contains("no").contains("kvm");
        assertThat(v.fresh()).isTrue();
        assertThat(probe().decide(Acceleration.AUTO, () -> true).fresh()).as("the notice is shown once").isFalse();
    }

    @Test
    void nestedPvmMeansTcg() throws Exception {
        Files.createFile(dir.resolve("kvm"));
        Files.createDirectories(dir.resolve("module/kvm_pvm"));
        AccelerationProbe.Verdict v = probe().decide(Acceleration.AUTO, () -> {
            throw new AssertionError("PVM is decided without booting");
        });
        assertThat(v.acceleration()).isEqualTo(Acceleration.TCG);
        assertThat(v.reason()).contains("PVM");
    }

    @Test
    void aProbeBootDecidesAndIsCached() throws Exception {
        Files.createFile(dir.resolve("kvm"));
        AtomicInteger probes = new AtomicInteger();
        AccelerationProbe.Verdict first = probe().decide(Acceleration.AUTO, () -> probes.incrementAndGet() > 0);
        assertThat(first.acceleration()).isEqualTo(Acceleration.KVM);
        AccelerationProbe.Verdict second = probe().decide(Acceleration.AUTO, () -> probes.incrementAndGet() < 0);
        assertThat(second.acceleration()).isEqualTo(Acceleration.KVM);
        assertThat(probes).hasValue(1);
    }

    @Test
    void aFailedProbeMeansTcg() throws Exception {
        Files.createFile(dir.resolve("kvm"));
        assertThat(probe().decide(Acceleration.AUTO, () -> false).acceleration()).isEqualTo(Acceleration.TCG);
    }

    @Test
    void explicitChoicesWin() throws Exception {
        assertThat(probe().decide(Acceleration.TCG, () -> true).acceleration()).isEqualTo(Acceleration.TCG);
        assertThatThrownBy(() -> probe().decide(Acceleration.KVM, () -> true))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.HOST_DEPENDENCY_MISSING));
        Files.createFile(dir.resolve("kvm"));
        assertThat(probe().decide(Acceleration.KVM, () -> false).acceleration()).isEqualTo(Acceleration.KVM);
    }
}

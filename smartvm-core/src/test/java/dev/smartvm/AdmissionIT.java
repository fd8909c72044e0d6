package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.smartvm.internal.host.VmmLabel;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A start the host cannot carry fails fast, before anything boots, and leaves nothing. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AdmissionIT extends RealVmTest {
    @Test
    void aStartOverTheVcpuLimitIsRefusedUntilAPlaceIsFree() {
        int cores = Runtime.getRuntime().availableProcessors();
        int running = VmmLabel.labelledDirs().size(); // one vCPU each, as the default spec has
        AdmissionPolicy roomForOne = new AdmissionPolicy((running + 1.5) / cores, 0);
        try (SmartVm tight = SmartVm.builder().home(home).imagesDir(sharedImages()).admission(roomForOne).build()) {
            MicroVm first = tight.start(VmSpec.builder().name("first").build());
            Throwable refused = catchThrowable(() -> tight.start(VmSpec.builder().name("second").build()));
            assertThat(refused).isInstanceOf(SmartVmException.class).hasMessageContaining("may not start");
            assertThat(((SmartVmException) refused).code()).isEqualTo(ErrorCode.HOST_OVERCOMMITTED);
            assertThat(tight.list()).extracting(VmInfo::name).containsExactly("first");
            first.stop();
            MicroVm second = tight.start(VmSpec.builder().name("second").build());
            assertThat(second.exec("echo", "admitted").stdout()).isEqualTo("admitted\n");
        }
    }
}

package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AdmissionPolicyTest {
    @Test
    void refusesWhatWouldGoOverEitherLimit() {
        AdmissionPolicy p = new AdmissionPolicy(8, 90);
        assertThat(p.refusal(2, 24_000, 15, 4000, 1, 256)).isNull();
        assertThat(p.refusal(2, 24_000, 16, 4000, 1, 256)).contains("17 vCPUs on 2 cores").contains("8 per core");
        assertThat(p.refusal(2, 1000, 0, 700, 1, 256)).contains("956 MiB of the host's 1000 MiB").contains("90 %");
        assertThat(p.refusal(2, 1000, 0, 600, 1, 256)).isNull();
    }

    @Test
    void zeroMeansNoLimit() {
        assertThat(AdmissionPolicy.UNLIMITED.refusal(1, 1, 1000, 1_000_000, 32, 65536)).isNull();
    }

    @Test
    void negativeLimitsAreRefused() {
        assertThatThrownBy(() -> new AdmissionPolicy(-1, 90)).isInstanceOf(SmartVmException.class);
    }
}

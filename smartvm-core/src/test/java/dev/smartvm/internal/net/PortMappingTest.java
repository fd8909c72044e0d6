package dev.smartvm.internal.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PortMappingTest {
    @Test
    void loopbackAndTcpUnlessSaid() {
        assertThat(PortMapping.parse("8080:80")).isEqualTo(new PortMapping("127.0.0.1", 8080, 80, "tcp"));
        assertThat(PortMapping.parse("0.0.0.0:5353:53/udp")).isEqualTo(new PortMapping("0.0.0.0", 5353, 53, "udp"));
        assertThat(PortMapping.parse("10.1.2.3:22:2222/tcp")).isEqualTo(new PortMapping("10.1.2.3", 22, 2222, "tcp"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"80", "0:80", "80:70000", "1.2.3.999:80:80", "80:80/sctp", "80:80/", "a:80", " : "})
    void badOnesAreRefusedWithTheirText(String text) {
        assertThatThrownBy(() -> PortMapping.parse(text)).isInstanceOf(SmartVmException.class)
                .hasMessageContaining("invalid published port '" + text + "'")
                .satisfies(e -> assertThat(((SmartVmException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
    }

    @Test
    void aHostPortClashesPerProtocolAndAddress() {
        PortMapping tcp = PortMapping.parse("8080:80");
        assertThat(tcp.clashesWith(PortMapping.parse("8080:81"))).isTrue();
        assertThat(tcp.clashesWith(PortMapping.parse("8080:80/udp"))).as("another protocol").isFalse();
        assertThat(tcp.clashesWith(PortMapping.parse("127.0.0.2:8080:80"))).as("another address").isFalse();
        assertThat(tcp.clashesWith(PortMapping.parse("0.0.0.0:8080:80"))).as("every address").isTrue();
        assertThat(tcp.clashesWith(PortMapping.parse("8081:80"))).isFalse();
    }

    @Test
    void theHostSideReadsBackAndOldEntriesAreTcp() {
        PortMapping udp = PortMapping.parse("5353:53/udp");
        assertThat(udp.hostSide()).isEqualTo("127.0.0.1:5353/udp");
        assertThat(PortMapping.fromHostSide(udp.hostSide()).clashesWith(udp)).isTrue();
        assertThat(PortMapping.fromHostSide("127.0.0.1:8080").protocol()).isEqualTo("tcp");
    }
}

package dev.smartvm.internal.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Addresses and names with the seed's semantics. */
class NetworkManagerTest {
    @TempDir
    Path dir;

    private static ErrorCode code(Throwable t) {
        return ((SmartVmException) t).code();
    }

    @Test
    void theDefaultSubnetHandsOutAddressesInOrderAfterTheGateway() {
        NetworkManager n = new NetworkManager(dir);
        assertThat(n.subnet().toString()).isEqualTo("172.30.0.0/24");
        assertThat(n.gateway()).isEqualTo("172.30.0.1");
        assertThat(n.bridge()).isEqualTo("smartvm0");
        assertThat(List.of(n.allocateIp(), n.allocateIp(), n.allocateIp())).containsExactly("172.30.0.2", "172.30.0.3", "172.30.0.4");
        n.releaseIp("172.30.0.3");
        assertThat(n.allocateIp("vm-x")).as("a released address is reused").isEqualTo("172.30.0.3");
        assertThat(n.leases()).containsEntry("172.30.0.3", "vm-x").hasSize(3);
        n.releaseIp("172.30.0.3", "vm-gone");
        assertThat(n.leases()).as("a late cleanup of another VM frees nothing").containsEntry("172.30.0.3", "vm-x");
        n.releaseIp("172.30.0.3", "vm-x");
        assertThat(n.leases()).doesNotContainKey("172.30.0.3");
        n.allocateIp("vm-x");
        assertThat(new NetworkManager(dir).allocateIp()).as("leases persist").isEqualTo("172.30.0.5");
    }

    @Test
    void aHostAddressIsNormalisedToItsNetwork() {
        NetworkManager n = new NetworkManager("10.20.30.17/29", "br-test", dir);
        assertThat(n.subnet().toString()).isEqualTo("10.20.30.16/29");
        assertThat(n.gateway()).isEqualTo("10.20.30.17");
        assertThat(n.allocateIp()).isEqualTo("10.20.30.18");
        assertThat(n.allocateIp()).isEqualTo("10.20.30.19");
    }

    @Test
    void aSlash30HasExactlyOneGuest() {
        NetworkManager n = new NetworkManager("192.168.100.0/30", "br0", dir);
        assertThat(n.allocateIp()).isEqualTo("192.168.100.2");
        assertThatThrownBy(n::allocateIp).satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.IP_EXHAUSTED))
                .hasMessageContaining("192.168.100.0/30");
    }

    @Test
    void malformedSubnetsAndInterfaceNamesAreRefused() {
        for (String bad : List.of("10.0.0.0/31", "10.0.0.0/32", "10..0.1/24", "10.0x10.0.1/24", "10.0.0.1 /24", "10.0.0.256/24",
                "010.0.0.1/24", "10.0.0.1", "10.0.0.0/7", "")) {
            assertThatThrownBy(() -> new NetworkManager(bad, "br0", dir)).as(bad)
                    .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.INVALID_SUBNET));
        }
        for (String bad : List.of("br 0", "a-bridge-name-too-long", "", "-br", "br/0")) {
            assertThatThrownBy(() -> new NetworkManager("10.0.0.0/24", bad, dir)).as(bad)
                    .satisfies(t -> assertThat(code(t)).isEqualTo(ErrorCode.INVALID_INTERFACE_NAME));
        }
        assertThat(new NetworkManager("10.0.0.0/24", "abcdefghijklmno", dir).bridge()).hasSize(15);
    }

    @Test
    void macsAndTapNamesAreStableAndDistinct() {
        String mac = NetworkManager.generateMac("vm-1", "eth0");
        assertThat(mac).matches("02(:[0-9a-f]{2}){5}").isEqualTo(NetworkManager.generateMac("vm-1", "eth0"));
        assertThat(NetworkManager.generateMac("vm-2", "eth0")).isNotEqualTo(mac);
        String tap = NetworkManager.generateTapName("vm-1", "eth0");
        assertThat(tap).startsWith("sv").hasSizeLessThanOrEqualTo(15).isEqualTo(NetworkManager.generateTapName("vm-1", "eth0"));
        Set<String> taps = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            taps.add(NetworkManager.generateTapName("vm-" + i, "eth0"));
        }
        assertThat(taps).hasSize(1000);
        NetworkManager.checkInterfaceName(tap);
    }

    @Test
    void bootArgsConfigureEth0() {
        NetworkManager n = new NetworkManager(dir);
        assertThat(n.bootArgs("172.30.0.2")).isEqualTo("ip=172.30.0.2::172.30.0.1:255.255.255.0::eth0:off");
        assertThatThrownBy(() -> n.bootArgs("10.9.9.9")).hasMessageContaining("not in 172.30.0.0/24");
    }

    @Test
    void concurrentAllocationsNeverShareAnAddress() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<String>>> all = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                all.add(pool.submit(() -> {
                    NetworkManager own = new NetworkManager("10.1.0.0/24", "br0", dir); // a process of its own, as it were
                    List<String> got = new ArrayList<>();
                    for (int i = 0; i < 40; i++) {
                        got.add(own.allocateIp());
                    }
                    return got;
                }));
            }
            Set<String> distinct = new HashSet<>();
            for (Future<List<String>> f : all) {
                distinct.addAll(f.get());
            }
            assertThat(distinct).hasSize(160);
        } finally {
            pool.shutdown();
        }
    }
}

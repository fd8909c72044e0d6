package dev.smartvm.internal.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.FileTrees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host side of VM networking on a bridge and subnet of this test's own (no VM boots, no
 * traffic is sent): a VM whose directory vanished without anything reaping it gives its TAP,
 * rules, ports and address back at the next attach or detach of any VM.
 */
@Tag("integration")
class HostNetworkIT {
    @TempDir
    Path dir;
    private final String bridge = "svtb" + ThreadLocalRandom.current().nextInt(1000, 9999);
    private NetworkManager manager;
    private HostNetwork host;

    @BeforeEach
    void hostNetwork() {
        Assumptions.assumeTrue(HostNetwork.unavailableReason() == null, "host networking needs root, iproute2 and nftables");
        manager = new NetworkManager("10.228.0.0/24", bridge, dir.resolve("state"));
        host = new HostNetwork(manager, dir.resolve("state"), CommandRunner.system());
    }

    private static String vmId() {
        return String.format("%012x", ThreadLocalRandom.current().nextLong(1L << 47));
    }

    private Path vmDir(String id) throws Exception {
        return Files.createDirectories(dir.resolve("home/vms/" + id));
    }

    private static boolean linkExists(String name) {
        return TestNetworks.sh("ip link show " + name).exitCode() == 0;
    }

    private static String ruleset() {
        return TestNetworks.sh("nft list ruleset").stdout();
    }

    @Test
    void aVmWhoseDirectoryVanishedIsReleasedByTheNextAttach() throws Exception {
        String lost = vmId();
        String next = vmId();
        HostNetwork.Attachment a = host.attach(lost, vmDir(lost), EgressPolicy.parse(List.of(), List.of()),
                List.of(PortMapping.parse("18081:80")));
        assertThat(linkExists(a.tap())).isTrue();
        assertThat(ruleset()).contains(lost);
        FileTrees.delete(dir.resolve("home")); // its home is deleted with nothing having reaped it

        HostNetwork.Attachment b = host.attach(next, vmDir(next), EgressPolicy.parse(List.of(), List.of()),
                List.of(PortMapping.parse("18081:80")));
        try {
            assertThat(b.ip()).as("its address is free again").isEqualTo(a.ip());
            assertThat(linkExists(a.tap())).as("its TAP is gone").isFalse();
            assertThat(ruleset()).as("its rules are gone").doesNotContain(lost);
            assertThat(manager.leases()).containsOnly(java.util.Map.entry(b.ip(), next));
        } finally {
            host.detach(next, b.tap(), b.ip());
        }
        assertThat(linkExists(bridge)).as("the bridge went with the last VM").isFalse();
        assertThat(manager.leases()).isEmpty();
    }

    @Test
    void aDetachReleasesVanishedVmsTooSoTheBridgeGoesWithTheLastRealOne() throws Exception {
        String lost = vmId();
        String kept = vmId();
        HostNetwork.Attachment a = host.attach(lost, vmDir(lost), EgressPolicy.parse(List.of(), List.of()), List.of());
        Path keptDir = Files.createDirectories(dir.resolve("other-home/vms/" + kept));
        HostNetwork.Attachment b = host.attach(kept, keptDir, EgressPolicy.parse(List.of(), List.of()), List.of());
        assertThat(manager.leases()).as("a VM whose directory is there is left alone").hasSize(2);
        FileTrees.delete(dir.resolve("home"));

        host.detach(kept, b.tap(), b.ip());

        assertThat(linkExists(a.tap())).isFalse();
        assertThat(linkExists(bridge)).as("no VM is left, so the bridge is gone").isFalse();
        assertThat(manager.leases()).isEmpty();
        assertThat(TestNetworks.sh("nft list tables").stdout()).doesNotContain("smartvm");
    }
}

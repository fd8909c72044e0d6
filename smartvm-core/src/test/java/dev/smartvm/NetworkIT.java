package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.net.HostNetwork;
import dev.smartvm.internal.net.NetworkManager;
import dev.smartvm.internal.net.TestNetworks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real VM on SmartVM's bridge with an allow-list, proving from inside the guest that the allowed
 * host answers and the other does not. The two "internet" hosts are network namespaces this test
 * makes and removes; no traffic leaves the machine.
 */
@SuppressWarnings("try") // the guest's server runs for its block
class NetworkIT extends RealVmTest {
    private final TestNetworks net = new TestNetworks();

    private static CommandResult sh(String command) {
        return TestNetworks.sh(command);
    }

    @BeforeAll
    void hosts() {
        Assumptions.assumeTrue(HostNetwork.unavailableReason() == null, () -> "skipped: " + HostNetwork.unavailableReason());
        net.host("host1", 233, 1);
        String host2 = net.host("host2", 233, 2);
        TestNetworks.ok("ip -n " + host2 + " addr add 169.254.169.254/32 dev eth0"); // host2 also plays cloud metadata
        net.change("ip route add 169.254.169.254/32 via 10.233.2.2", "ip route del 169.254.169.254/32 via 10.233.2.2");
    }

    @AfterAll
    void removeHosts() {
        net.close();
    }

    /**
     * What an allowed fetch gets: under TCG on a loaded 2-core host (a clone booting beside it), one
     * connection can miss nc's 2 s; a few tries tell a slow reply from a blocked one.
     */
    private static String reach(MicroVm vm, String address) {
        String got = "";
        for (int i = 0; i < 4 && got.isEmpty(); i++) {
            got = fetch(vm, address);
        }
        return got;
    }

    /** What the host and both guests say of their network, for a failure that has not been understood yet. */
    private static String forkDiagnostics(MicroVm source, MicroVm child) {
        StringBuilder b = new StringBuilder("\n--- diagnostics ---");
        for (String command : List.of("ip -o addr show", "ip neigh show", "bridge fdb show br smartvm0", "nft list ruleset",
                "conntrack -L -d 10.233.2.2 2>&1 | head -40", "ip -s link show")) {
            b.append("\n$ ").append(command).append('\n').append(TestNetworks.sh(command + " 2>&1").stdout());
        }
        for (MicroVm vm : List.of(source, child)) {
            b.append("\n[").append(vm.name()).append("] ").append(vm.exec(ExecRequest.shell(
                    "ip addr; ip route; ip neigh; cat /proc/net/nf_conntrack 2>/dev/null | head; echo | nc -v -w 2 10.233.2.2 8080")
                    .withTimeout(Duration.ofSeconds(20))).stdout());
        }
        return b.toString();
    }

    private static String fetch(MicroVm vm, String address) {
        return vm.exec(ExecRequest.shell("echo | nc -w 2 " + address + " 8080").withTimeout(Duration.ofSeconds(10))).stdout().strip();
    }

    @Test
    void publishedPortsReachTheGuestFromTheHostAndCannotBeTakenTwice() throws Exception {
        int port = freePort();
        int udp = freeUdpPort();
        NetworkSpec net = NetworkSpec.enabled(List.of(), List.of()).publishing(List.of(port + ":8000", udp + ":5300/udp"));
        try (MicroVm vm = svm.start(VmSpec.builder().network(net).build());
                ExecProcess server = vm.spawn(ExecRequest.shell("while true; do echo hello-from-guest | nc -l -p 8000; done"));
                ExecProcess echo = udpEcho(vm, 5300)) {
            assertThat(readLocal(port)).isEqualTo("hello-from-guest");
            assertThat(askUdp(udp, "ping")).as("a UDP port too").isEqualTo("echo:ping");

            MicroVm second = svm.create(VmSpec.builder().network(net).build());
            Throwable t = org.assertj.core.api.Assertions.catchThrowable(second::start);
            assertThat(t).hasMessageContaining("is already published by VM " + vm.id());
            assertThat(sh("ip link show " + NetworkManager.generateTapName(second.id(), "eth0")).exitCode())
                    .as("the failed attach left no TAP").isNotZero();
            assertThat(Files.readString(Path.of(dev.smartvm.internal.net.HostNetwork.DEFAULT_STATE_DIR, "leases.json"))).doesNotContain(second.id());
            second.remove();
        }
        assertThat(sh("nft list tables").stdout()).doesNotContain("smartvm");
    }

    @Test
    void withoutAnAllowListTheOutsideIsOpenButMetadataAndOtherVmsAreNot() throws Exception {
        NetworkSpec open = NetworkSpec.enabled(List.of(), List.of("10.233.2.2"));
        try (MicroVm server = svm.start(VmSpec.builder().network(open).build());
                ExecProcess listening = server.spawn(ExecRequest.shell("while true; do echo from-vm | nc -l -p 8080; done"));
                MicroVm client = svm.start(VmSpec.builder().network(open).build())) {
            String serverIp = server.exec("sh", "-c", "ip -4 addr show eth0 | sed -n 's/.*inet \\([0-9.]*\\).*/\\1/p'")
                    .stdout().strip();
            assertThat(serverIp).startsWith("172.30.0.");
            String fromHost = "";
            for (int i = 0; i < 50 && fromHost.isEmpty(); i++) { // the host reaches the guest's server
                fromHost = sh("echo | timeout 3 python3 -c \"import socket\ns=socket.create_connection(('" + serverIp
                        + "', 8080), timeout=1); print(s.recv(20).decode().strip())\" 2>/dev/null").stdout().strip();
            }
            assertThat(fromHost).isEqualTo("from-vm");
            assertThat(reach(client, "10.233.1.2")).as("not denied: open").isEqualTo("host1");
            assertThat(fetch(client, "10.233.2.2")).as("denied").isEmpty();
            assertThat(fetch(client, "169.254.169.254")).as("metadata, denied by default").isEmpty();
            assertThat(fetch(client, serverIp)).as("another VM, denied by default").isEmpty();
        }
    }

    /**
     * An allow-listed hostname, resolved by a DNS server of the test's: the guest reaches its
     * address; when the name moves (after its 1 s TTL, so within SmartVM's 5 s floor), the VM
     * follows it, from inside the guest too; and the VM's sets go with it.
     */
    @Test
    void anAllowedHostnameIsResolvedAgainWhenItsTtlEnds() throws Exception {
        String id;
        try (dev.smartvm.internal.net.TestDnsServer dns = new dev.smartvm.internal.net.TestDnsServer();
                SmartVm withDns = SmartVm.builder().home(home).imagesDir(sharedImages())
                        .resolver(dev.smartvm.internal.net.DnsResolver.using(dns.address())).build()) {
            dns.answer("svc.smartvm.test", 1, "10.233.1.2");
            try (MicroVm vm = withDns.start(VmSpec.builder()
                    .network(NetworkSpec.enabled(List.of("svc.smartvm.test:8080"), List.of())).build())) {
                id = vm.id();
                assertThat(reach(vm, "10.233.1.2")).as("the name's address").isEqualTo("host1");
                assertThat(fetch(vm, "10.233.2.2")).as("another").isEmpty();
                dns.answer("svc.smartvm.test", 1, "10.233.2.2");
                String got = "";
                for (int i = 0; i < 15 && got.isEmpty(); i++) {
                    got = fetch(vm, "10.233.2.2");
                }
                assertThat(got).as("the VM follows the name").isEqualTo("host2");
                assertThat(fetch(vm, "10.233.1.2")).as("and leaves its old address").isEmpty();
            }
        }
        assertThat(sh("nft list sets").stdout()).doesNotContain(id);
    }

    /** Reads what 127.0.0.1:port answers, retrying while nothing listens yet; "" when it never does. */
    private static String readLocal(int port) throws InterruptedException {
        for (int i = 0; i < 50; i++) {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
                s.setSoTimeout(2000);
                String got = new String(s.getInputStream().readAllBytes()).strip();
                if (!got.isEmpty()) {
                    return got;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        return "";
    }

    /** Starts a UDP echo server (src/test/c/udp-echo.c) on the guest's {@code port}. */
    private ExecProcess udpEcho(MicroVm vm, int port) throws Exception {
        vm.copyTo(TestPrograms.compile(home, "udp-echo"), "/tmp/udp-echo");
        return vm.spawn(ExecRequest.of("/tmp/udp-echo", Integer.toString(port)));
    }

    /** Sends {@code text} to 127.0.0.1:port over UDP until an answer comes back; "" when none does. */
    private static String askUdp(int port, String text) throws java.io.IOException {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            s.setSoTimeout(500);
            byte[] out = text.getBytes();
            for (int i = 0; i < 40; i++) {
                s.send(new java.net.DatagramPacket(out, out.length, java.net.InetAddress.getLoopbackAddress(), port));
                java.net.DatagramPacket in = new java.net.DatagramPacket(new byte[600], 600);
                try {
                    s.receive(in);
                    return new String(in.getData(), 0, in.getLength());
                } catch (java.net.SocketTimeoutException e) {
                    // the server is not up yet
                }
            }
        }
        return "";
    }

    private static int freeUdpPort() throws java.io.IOException {
        try (java.net.DatagramSocket free = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            return free.getLocalPort();
        }
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return free.getLocalPort();
        }
    }

    @Test
    void theUserModeNetworkIsIsolatedAndOnlyPublishedPortsReachIn() throws Exception {
        int published = freePort();
        try (java.net.ServerSocket hostService = new java.net.ServerSocket(0, 4, java.net.InetAddress.getLoopbackAddress())) {
            NetworkSpec user = NetworkSpec.enabled(List.of(), List.of()).inMode(NetworkSpec.Mode.USER)
                    .publishing(List.of(published + ":8000"));
            try (MicroVm vm = svm.start(VmSpec.builder().network(user).build());
                    ExecProcess server = vm.spawn(ExecRequest.shell("while true; do echo hello-user-mode | nc -l -p 8000; done"))) {
                assertThat(vm.exec("cat", "/sys/class/net/eth0/address").stdout().strip())
                        .isEqualTo(NetworkManager.generateMac(vm.id(), "eth0"));
                assertThat(readLocal(published)).as("a published port reaches in").isEqualTo("hello-user-mode");
                assertThat(vm.exec(ExecRequest.shell("echo | nc -w 2 10.0.2.2 " + hostService.getLocalPort()))
                        .exitCode()).as("the host's own services stay out of reach").isNotZero();
                assertThat(fetch(vm, "10.233.1.2")).as("and so does everything else").isEmpty();
                assertThat(vm.info().network().mode()).isEqualTo(NetworkSpec.Mode.USER);
            }
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> NetworkSpec.enabled(List.of("10.0.0.1"), List.of())
                .inMode(NetworkSpec.Mode.USER)).hasMessageContaining("takes no egress rules");
    }

    @Test
    void egressRulesAreReplacedWhileTheVmRunsAndKeptWhenItRestarts() throws Exception {
        try (MicroVm vm = svm.start(VmSpec.builder().network(NetworkSpec.enabled(List.of("10.233.1.2:8080"), List.of())).build());
                MicroVm plain = svm.start(VmSpec.builder().build())) {
            assertThat(reach(vm, "10.233.1.2")).isEqualTo("host1");
            assertThat(fetch(vm, "10.233.2.2")).isEmpty();
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> vm.updateEgress(List.of("10.233.2.2:99999"), List.of())))
                    .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
            assertThat(reach(vm, "10.233.1.2")).as("a bad rule changes nothing").isEqualTo("host1");

            vm.updateEgress(List.of("10.233.2.2:8080"), List.of());
            assertThat(reach(vm, "10.233.2.2")).as("newly allowed").isEqualTo("host2");
            assertThat(fetch(vm, "10.233.1.2")).as("no longer allowed").isEmpty();
            assertThat(vm.info().spec().network().allow()).containsExactly("10.233.2.2:8080");

            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> plain.updateEgress(List.of(), List.of())))
                    .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE))
                    .hasMessageContaining("has no bridge network");
            vm.stop();
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> vm.updateEgress(List.of(), List.of())))
                    .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE))
                    .hasMessageContaining("it is stopped");
            vm.start();
            assertThat(reach(vm, "10.233.2.2")).as("the new rules are kept across a restart").isEqualTo("host2");
            assertThat(fetch(vm, "10.233.1.2")).isEmpty();
        }
    }

    @Test
    void theAllowListIsEnforcedOnTheHostAndEverythingGoesAway() throws Exception {
        String tap;
        try (MicroVm vm = svm.start(VmSpec.builder().network(NetworkSpec.enabled(List.of("10.233.1.2:8080"), List.of())).build())) {
            assertThat(vm.exec("cat", "/sys/class/net/eth0/address").stdout().strip())
                    .isEqualTo(NetworkManager.generateMac(vm.id(), "eth0"));
            assertThat(reach(vm, "10.233.1.2")).as("allowed").isEqualTo("host1");
            assertThat(fetch(vm, "10.233.2.2")).as("not on the allow-list").isEmpty();
            assertThat(fetch(vm, "172.30.0.1")).as("the host itself").isEmpty();
            assertThat(fetch(vm, "169.254.169.254")).as("cloud metadata").isEmpty();
            tap = NetworkManager.generateTapName(vm.id(), "eth0");
            assertThat(sh("ip link show " + tap).exitCode()).isZero();
        }
        assertThat(sh("ip link show " + tap).exitCode()).as("the TAP is gone").isNotZero();
        assertThat(sh("ip link show smartvm0").exitCode()).as("the bridge went with the last VM").isNotZero();
        assertThat(sh("nft list tables").stdout()).doesNotContain("smartvm");
        assertThat(Files.readString(Path.of(dev.smartvm.internal.net.HostNetwork.DEFAULT_STATE_DIR, "leases.json"))).doesNotContain("172.30.0.");
        assertThat(Path.of("/proc/sys/net/ipv4/ip_forward")).hasContent("0");
    }

    /**
     * A clone, a fork's child and a restored VM run a kernel that had another VM's network (the
     * MAC is part of the device's saved state): each gets its own MAC, address, TAP and rules.
     */
    @Test
    void clonesForksAndRestoresOfANetworkedVmHaveTheirOwnAddressesAndRules() throws Exception {
        svm.createTemplate("net-tpl", VmSpec.builder().network(NetworkSpec.enabled(List.of("10.233.1.2:8080"), List.of()))
                .build(), List.of("true"));
        assertThat(svm.templates().get(0).spec().network().mode()).as("the mode it ran in").isEqualTo(NetworkSpec.Mode.BRIDGE);
        Throwable otherMode = org.assertj.core.api.Assertions.catchThrowable(() -> svm.create(VmSpec.builder().template("net-tpl")
                .network(NetworkSpec.enabled(List.of(), List.of()).inMode(NetworkSpec.Mode.USER)).build()));
        assertThat(otherMode).isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED))
                .hasMessageContaining("bridge network");
        try (MicroVm a = svm.start(VmSpec.builder().template("net-tpl").build()); // the template's rules
                MicroVm b = svm.start(VmSpec.builder().template("net-tpl")
                        .network(NetworkSpec.enabled(List.of("10.233.2.2:8080"), List.of())).build())) {
            assertOwnAddress(a);
            assertOwnAddress(b);
            assertThat(a.info().network().address()).isNotEqualTo(b.info().network().address());
            assertThat(reach(a, "10.233.1.2")).as("a's allow-list").isEqualTo("host1");
            assertThat(fetch(a, "10.233.2.2")).isEmpty();
            assertThat(reach(b, "10.233.2.2")).as("b's allow-list").isEqualTo("host2");
            assertThat(fetch(b, "10.233.1.2")).isEmpty();

            List<MicroVm> children = b.fork(1);
            assertThat(sh("ip -o link show").stdout()).as("the loader's TAP went with it").doesNotContain(": svl");
            try (MicroVm child = children.get(0)) {
                assertOwnAddress(child);
                assertThat(reach(child, "10.233.2.2")).as("the child's rules are its source's").isEqualTo("host2");
                // It once failed in CI for good (1 run in 5): the bridge took the lowest MAC of its ports, so a new
                // TAP changed the gateway's MAC under the source's ARP cache; the bridge now has a MAC of its own.
                String back = "";
                int tries = 0;
                while (tries < 15 && back.isEmpty()) {
                    back = fetch(b, "10.233.2.2");
                    tries++;
                }
                System.err.println("NetworkIT: the fork's source reached out again after " + tries + " tries"); // for the CI log
                String diagnostics = back.isEmpty() ? forkDiagnostics(b, child) : "";
                assertThat(back).as("and the source still reaches out%s", diagnostics).isEqualTo("host2");
            }
            b.snapshot("net-snap");
            try (MicroVm restored = svm.restore("net-snap", null)) {
                assertOwnAddress(restored);
                assertThat(reach(restored, "10.233.2.2")).isEqualTo("host2");
                assertThat(fetch(restored, "10.233.1.2")).isEmpty();
            } finally {
                svm.removeSnapshot("net-snap");
            }
        } finally {
            svm.removeTemplate("net-tpl");
        }
        assertThat(sh("nft list tables").stdout()).doesNotContain("smartvm");
    }

    /** The guest's eth0 has the MAC and address SmartVM gave this VM, and the host reaches it there. */
    private static void assertOwnAddress(MicroVm vm) throws Exception {
        VmNetwork n = vm.info().network();
        assertThat(n.mac()).isEqualTo(NetworkManager.generateMac(vm.id(), "eth0"));
        assertThat(vm.exec("cat", "/sys/class/net/eth0/address").stdout().strip()).as("the guest's MAC").isEqualTo(n.mac());
        assertThat(vm.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout()).as("the guest's address")
                .contains(" " + n.address() + "/");
        try (ExecProcess server = vm.spawn(ExecRequest.shell("echo hello-from-" + vm.name() + " | nc -l -p 8000"))) {
            String answer = null;
            for (int i = 0; i < 50 && answer == null; i++) { // until the server listens
                try (java.net.Socket socket = new java.net.Socket()) {
                    socket.connect(new java.net.InetSocketAddress(n.address(), 8000), 2000);
                    socket.setSoTimeout(5000);
                    answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
                } catch (java.io.IOException notYet) {
                    Thread.sleep(100);
                }
            }
            assertThat(answer).as("the host reaches " + vm.name() + " at " + n.address()).isEqualTo("hello-from-" + vm.name());
        }
    }
}

package dev.smartvm.internal.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.NameResolver;
import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Egress rules enforced by nftables on real traffic, all of it between network namespaces this
 * test makes: a "VM" namespace on a bridge through a veth whose host end stands for its TAP,
 * and two "internet" hosts (A and B, B also answering as 169.254.169.254) routed by the host.
 * Everything made here is removed afterwards, and ip_forward is put back as it was.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EgressPolicyIT {
    private final TestNetworks net = new TestNetworks();
    private final String tag = net.tag();
    private String bridge;
    private String tap;
    private String vmNs;
    private String forwardBefore;
    private final Subnet vmNet = Subnet.parse("10.231.0.0/24");
    private final Nft nft = new Nft(CommandRunner.system());
    private int generation;
    private String vmMac;

    @BeforeAll
    void network() throws Exception {
        Assumptions.assumeTrue(dev.smartvm.internal.host.HostUser.isRoot(), "needs root");
        Assumptions.assumeTrue(Nft.available() && Files.isExecutable(Path.of("/usr/sbin/ip")), "needs nftables and iproute2");
        forwardBefore = Files.readString(Path.of("/proc/sys/net/ipv4/ip_forward")).strip();
        net.change("echo 1 > /proc/sys/net/ipv4/ip_forward", "echo " + forwardBefore + " > /proc/sys/net/ipv4/ip_forward");
        bridge = net.bridge("br", "10.231.0.1/24");
        vmNs = net.namespace("vm");
        tap = net.veth("v", vmNs);
        TestNetworks.ok("ip link set " + tap + " master " + bridge + " up");
        TestNetworks.configure(vmNs, "10.231.0.2/24", "10.231.0.1");
        vmMac = TestNetworks.sh("ip -n " + vmNs + " -o link show eth0").stdout().replaceFirst("(?s).*link/ether (\\S+).*", "$1").strip();
        String a = net.host("a", 232, 1);
        String b = net.host("b", 232, 2);
        net.echo("ip netns exec " + a + " ", "10.232.1.2", "a-echo");
        net.listener("", "10.231.0.1", "host"); // the host itself, on the bridge's address
        TestNetworks.ok("ip -n " + b + " addr add 169.254.169.254/32 dev eth0");
        net.change("ip route add 169.254.169.254/32 via 10.232.2.2", "ip route del 169.254.169.254/32 via 10.232.2.2");
    }

    /** What the "VM" reads from address:8080, or "" when it cannot connect within a second. */
    private String fromVm(String address) {
        CommandResult r = TestNetworks.sh("ip netns exec " + vmNs + " python3 -c \"import socket\ntry:\n s=socket.create_connection(('" + address
                + "', 8080), timeout=1); print(s.recv(10).decode().strip())\nexcept OSError: print('')\"");
        return r.stdout().strip();
    }

    @AfterAll
    void cleanUp() {
        nft.removeVm("t" + tag);
        nft.deleteTablesIfEmpty();
        net.close();
    }

    private void apply(EgressPolicy policy) {
        nft.apply(NftRules.install("t" + tag, bridge, tap, vmMac, "10.231.0.2", vmNet, List.of("10.231.0.1"), policy, ++generation)
                + NftRules.deleteUnused("t" + tag, policy, nft.vmSets("t" + tag)));
    }

    @Test
    void allowListsDenyListsAndTheDefaultDenials() {
        assertThat(fromVm("10.232.1.2")).as("no rules yet").isEqualTo("a");
        assertThat(fromVm("169.254.169.254")).as("no rules yet").isEqualTo("b");
        assertThat(fromVm("10.231.0.1")).as("no rules yet").isEqualTo("host");

        apply(EgressPolicy.parse(List.of("10.232.1.2:8080"), List.of()));
        assertThat(fromVm("10.232.1.2")).as("allowed").isEqualTo("a");
        assertThat(fromVm("10.232.2.2")).as("not on the allow-list").isEmpty();
        assertThat(fromVm("169.254.169.254")).as("metadata").isEmpty();

        apply(EgressPolicy.parse(List.of(), List.of("10.232.2.0/24")));
        assertThat(fromVm("10.232.1.2")).as("not denied").isEqualTo("a");
        assertThat(fromVm("10.232.2.2")).as("denied").isEmpty();
        assertThat(fromVm("169.254.169.254")).as("metadata is denied by default").isEmpty();
        assertThat(fromVm("10.231.0.1")).as("the host is denied by default").isEmpty();

        apply(EgressPolicy.parse(List.of("169.254.169.254"), List.of()));
        assertThat(fromVm("169.254.169.254")).as("metadata, explicitly allowed").isEqualTo("b");
        assertThat(fromVm("10.232.1.2")).isEmpty();

        nft.removeVm("t" + tag);
        assertThat(fromVm("10.232.2.2")).as("rules removed").isEqualTo("b");
        assertThat(fromVm("10.231.0.1")).as("rules removed").isEqualTo("host");
        assertThat(TestNetworks.sh("nft list table inet smartvm; nft list table bridge smartvm").stdout()).doesNotContain("vm-t" + tag);
    }

    /**
     * A hostname's addresses sit in a set of the VM's; when the name's TTL ends and it resolves
     * elsewhere, {@link HostnamePins} refills the set, and traffic follows.
     */
    @Test
    void hostnamesArePinnedAndFollowTheirDnsAnswersOnTheirTtl() throws Exception {
        try (TestDnsServer dns = new TestDnsServer()) {
            NameResolver resolver = DnsResolver.using(dns.address());
            dns.answer("svc.smartvm.test", 1, "10.232.1.2");
            EgressPolicy policy = EgressPolicy.parse(List.of("svc.smartvm.test:8080"), List.of(), resolver);
            apply(policy);
            assertThat(TestNetworks.sh("nft list set inet smartvm vm-t" + tag + "-a0").stdout()).contains("10.232.1.2");
            assertThat(fromVm("10.232.1.2")).as("the name's address").isEqualTo("a");
            assertThat(fromVm("10.232.2.2")).as("not the name's").isEmpty();

            dns.answer("svc.smartvm.test", 1, "10.232.2.2");
            assertThat(fromVm("10.232.2.2")).as("pinned: a new answer changes nothing by itself").isEmpty();
            try (HostnamePins pins = HostnamePins.start("t" + tag, policy, resolver, p -> {
                nft.apply(NftRules.pins("t" + tag, p) + "\n");
                return true;
            })) {
                String got = "";
                for (int i = 0; i < 40 && got.isEmpty(); i++) {
                    got = fromVm("10.232.2.2");
                }
                assertThat(got).as("the set follows the name after its TTL").isEqualTo("b");
                assertThat(fromVm("10.232.1.2")).as("the old address is no longer allowed").isEmpty();
                assertThat(pins.policy().allow().get(0).cidrs()).containsExactly("10.232.2.2/32");
                int asked = dns.queries("svc.smartvm.test");
                dns.answer("svc.smartvm.test", 1); // the name loses its address: the last one stays
                Thread.sleep((HostnamePins.MIN_SECONDS + 1) * 1000L);
                assertThat(dns.queries("svc.smartvm.test")).isGreaterThan(asked);
                assertThat(fromVm("10.232.2.2")).as("a failed lookup keeps the last addresses").isEqualTo("b");
            }
        }
        nft.removeVm("t" + tag);
        assertThat(TestNetworks.sh("nft list sets").stdout()).as("the VM's sets go with it").doesNotContain("vm-t" + tag);
    }

    /**
     * Rules replaced at run time (the next generation) judge open connections again: one the old
     * rules let through to an address the new ones do not allow stops, mid-stream, while the new
     * rules let other traffic through; the sets of hostname rules no longer there are deleted.
     */
    @Test
    void replacedRulesCutAnOpenConnectionTheyDenyAndLetNewTrafficThrough() throws Exception {
        Path flag = Files.createTempFile("svt-flag", "");
        Files.delete(flag);
        try (TestDnsServer dns = new TestDnsServer()) {
            dns.answer("svc.smartvm.test", 60, "10.232.1.2");
            apply(EgressPolicy.parse(List.of("svc.smartvm.test"), List.of(), DnsResolver.using(dns.address())));
            assertThat(TestNetworks.sh("nft list sets").stdout()).contains("vm-t" + tag + "-a0");
            assertThat(fromVm("10.232.2.2")).as("not allowed yet").isEmpty();
            Process client = new ProcessBuilder("ip", "netns", "exec", vmNs, "python3", "-c", String.join("\n",
                    "import socket,os,time",
                    "s=socket.create_connection(('10.232.1.2', 8081), timeout=2)",
                    "def ask(x):",
                    "    s.sendall(x + b'\\n')",
                    "    return s.recv(100).decode().strip() or 'closed'",
                    "print(ask(b'one'), flush=True)",
                    "while not os.path.exists('" + flag + "'): time.sleep(0.05)",
                    "try: print(ask(b'two'), flush=True)",
                    "except OSError: print('cut', flush=True)")).redirectErrorStream(true).start();
            try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(client.getInputStream()))) {
                assertThat(out.readLine()).as("the open connection works").isEqualTo("one");
                apply(EgressPolicy.parse(List.of("10.232.2.2"), List.of()));
                Files.createFile(flag);
                assertThat(out.readLine()).as("the connection to an address no longer allowed stops").isEqualTo("cut");
            } finally {
                client.destroyForcibly();
                Files.deleteIfExists(flag);
            }
        }
        assertThat(fromVm("10.232.2.2")).as("newly allowed").isEqualTo("b");
        assertThat(fromVm("10.232.1.2")).as("no longer allowed").isEmpty();
        assertThat(TestNetworks.sh("nft list sets").stdout()).as("the old hostname rule's sets are gone")
                .doesNotContain("vm-t" + tag + "-a0");
        nft.removeVm("t" + tag);
    }

    @Test
    void badRulesAreRefusedWithACode() {
        for (String bad : List.of("10.0.0.0/33", "10.0.0.1:0", "10.0.0.1:70000", "300.1.1.1", "bad host!")) {
            assertThatThrownBy(() -> EgressRule.parse(bad)).as(bad).hasMessageContaining("invalid egress rule");
        }
        assertThat(EgressRule.parse("localhost").cidrs()).contains("127.0.0.1/32");
    }
}

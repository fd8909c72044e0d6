package dev.smartvm.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.internal.CommandResult;
import dev.smartvm.internal.CommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
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
    private static final CommandRunner RUN = CommandRunner.system();
    private final String tag = Integer.toString(ThreadLocalRandom.current().nextInt(1000, 9999));
    private final String bridge = "svtbr" + tag;
    private final String tap = "svtv" + tag;
    private final String vmNs = "svt-vm-" + tag;
    private final List<String> namespaces = new ArrayList<>();
    private final List<String> links = new ArrayList<>();
    private String forwardBefore;
    private final Subnet vmNet = Subnet.parse("10.231.0.0/24");
    private final Nft nft = new Nft(RUN);

    private static CommandResult sh(String command) {
        return RUN.run(List.of("/bin/sh", "-c", command), null, Duration.ofSeconds(30));
    }

    private static void ok(String command) {
        CommandResult r = sh(command);
        assertThat(r.exitCode()).as(command + "\n" + r.stderr()).isZero();
    }

    @BeforeAll
    void network() throws Exception {
        Assumptions.assumeTrue(((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0, "needs root");
        Assumptions.assumeTrue(Nft.available() && Files.isExecutable(Path.of("/usr/sbin/ip")), "needs nftables and iproute2");
        forwardBefore = Files.readString(Path.of("/proc/sys/net/ipv4/ip_forward")).strip();
        ok("echo 1 > /proc/sys/net/ipv4/ip_forward");
        ok("ip link add " + bridge + " type bridge && ip addr add 10.231.0.1/24 dev " + bridge + " && ip link set " + bridge + " up");
        links.add(bridge);
        ok("ip netns add " + vmNs);
        namespaces.add(vmNs);
        ok("ip link add " + tap + " type veth peer name eth0 netns " + vmNs);
        links.add(tap);
        ok("ip link set " + tap + " master " + bridge + " up");
        ok("ip -n " + vmNs + " addr add 10.231.0.2/24 dev eth0 && ip -n " + vmNs + " link set eth0 up && ip -n " + vmNs
                + " link set lo up && ip -n " + vmNs + " route add default via 10.231.0.1");
        host("a", 1);
        host("b", 2);
        listener("", "10.231.0.1", "host"); // the host itself, on the bridge's address
        ok("ip -n svt-b-" + tag + " addr add 169.254.169.254/32 dev eth0");
        ok("ip route add 169.254.169.254/32 via 10.232.2.2");
    }

    /** A namespace answering TCP on port 8080 at 10.232.n.2, routed by the host through 10.232.n.1. */
    private void host(String name, int n) {
        String ns = "svt-" + name + "-" + tag;
        String link = "svth" + name + tag;
        ok("ip netns add " + ns);
        namespaces.add(ns);
        ok("ip link add " + link + " type veth peer name eth0 netns " + ns);
        links.add(link);
        ok("ip addr add 10.232." + n + ".1/24 dev " + link + " && ip link set " + link + " up");
        ok("ip -n " + ns + " addr add 10.232." + n + ".2/24 dev eth0 && ip -n " + ns + " link set eth0 up && ip -n " + ns
                + " link set lo up && ip -n " + ns + " route add default via 10.232." + n + ".1");
        listener("ip netns exec " + ns + " ", "0.0.0.0", name);
    }

    private final List<String> listenerPidFiles = new ArrayList<>();

    /** A TCP server on port 8080 that answers its name, in the background (its pid kept for the clean-up). */
    private void listener(String prefix, String address, String name) {
        String pidFile = "/tmp/svt-" + tag + "-" + name + ".pid";
        listenerPidFiles.add(pidFile);
        ok(prefix + "python3 -c \"import socket,os\nif os.fork(): os._exit(0)\nos.setsid()\n"
                + "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('" + address
                + "', 8080)); s.listen(16)\n"
                + "open('" + pidFile + "','w').write(str(os.getpid()))\n"
                + "while True:\n c,_=s.accept(); c.sendall(b'" + name + "\\\\n'); c.close()\" > /dev/null 2>&1");
        ok("for i in $(seq 100); do [ -s " + pidFile + " ] && exit 0; sleep 0.05; done; exit 1"); // listening before it is used
    }

    /** What the "VM" reads from address:8080, or "" when it cannot connect within a second. */
    private String fromVm(String address) {
        CommandResult r = sh("ip netns exec " + vmNs + " python3 -c \"import socket\ntry:\n s=socket.create_connection(('" + address
                + "', 8080), timeout=1); print(s.recv(10).decode().strip())\nexcept OSError: print('')\"");
        return r.stdout().strip();
    }

    @AfterAll
    void cleanUp() {
        nft.removeVm("t" + tag);
        nft.deleteTablesIfEmpty();
        sh("ip route del 169.254.169.254/32 via 10.232.2.2");
        for (String pidFile : listenerPidFiles) {
            sh("[ -f " + pidFile + " ] && kill -9 $(cat " + pidFile + "); rm -f " + pidFile);
        }
        for (String ns : namespaces) {
            sh("ip netns pids " + ns + " | xargs -r kill -9; ip netns del " + ns);
        }
        for (String l : links) {
            sh("ip link del " + l);
        }
        if (forwardBefore != null) {
            sh("echo " + forwardBefore + " > /proc/sys/net/ipv4/ip_forward");
        }
        String left = sh("ip -o link show | grep -E 'svt(br|v|h)" + tag + "'; ip netns list | grep " + tag).stdout();
        assertThat(left).as("left behind").isBlank();
    }

    private void apply(EgressPolicy policy) {
        nft.apply(NftRules.install("t" + tag, bridge, tap, "10.231.0.2", vmNet, List.of("10.231.0.1"), policy));
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
        assertThat(sh("nft list table inet smartvm; nft list table bridge smartvm").stdout()).doesNotContain("vm-t" + tag);
    }

    @Test
    void badRulesAreRefusedWithACode() {
        for (String bad : List.of("10.0.0.0/33", "10.0.0.1:0", "10.0.0.1:70000", "300.1.1.1", "bad host!", "no-such-host.invalid")) {
            assertThatThrownBy(() -> EgressRule.parse(bad)).as(bad).hasMessageContaining("invalid egress rule");
        }
        assertThat(EgressRule.parse("10.1.2.3/8:443")).isEqualTo(new EgressRule("10.1.2.3/8:443", List.of("10.0.0.0/8"), 443));
        assertThat(EgressRule.parse("localhost").cidrs()).contains("127.0.0.1/32");
    }
}

package dev.smartvm.internal.net;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The nftables rules of one VM's egress policy, in SmartVM's own tables ({@code inet smartvm}
 * and {@code bridge smartvm}). Each VM has its chains, named after its id:
 * <ul>
 * <li>bridge prerouting: what enters from its TAP must carry its MAC and address (no spoofing,
 * ARP included);</li>
 * <li>bridge forward: what it sends straight to another port of the bridge (another VM) is
 * dropped unless allowed (the bridge has no connection tracking here, so two VMs that are to
 * talk must each allow the other);</li>
 * <li>inet forward and input: what the host routes for it, and what it sends to the host
 * itself, matched by its (unspoofable) address on the bridge.</li>
 * </ul>
 * A hostname's addresses live in a set of the VM's ({@code vm-<id>-a<i>} for the i-th allow
 * rule, {@code -d<i>} for deny), in both tables, so that re-resolving it changes only the set.
 * Removing the VM's chains and sets removes exactly what it added.
 *
 * <p>A connection the rules let through carries the connection mark of the rules' generation
 * ({@link #mark}): its later packets pass at once. Rules replaced at run time have the next
 * generation, so every open connection is judged again, packet by packet, by the new rules:
 * one to an address they deny stops. Re-resolving a hostname keeps the generation, so open
 * connections to an address the name no longer has live on. The VM's answers on connections
 * made to it (published ports) and related ICMP pass.
 */
public final class NftRules {
    public static final String TABLE = "smartvm";
    static final String LINK_LOCAL = "169.254.0.0/16";

    private NftRules() {
    }

    static String chain(String vmId) {
        return "vm-" + vmId;
    }

    /** The connection mark of the rules of generation {@code generation} (1, 2, ...): SmartVM's 0x5e in the top byte. */
    static String mark(int generation) {
        if (generation < 1 || generation > 0xffffff) {
            throw new IllegalArgumentException("generation " + generation);
        }
        return String.format("0x5e%06x", generation);
    }

    /** The nft script that installs (or, with the next generation, replaces) the VM's rules. */
    public static String install(String vmId, String bridge, String tap, String vmMac, String vmIp, Subnet vmNetwork,
            List<String> hostAddresses, EgressPolicy policy, int generation) {
        String passed = "ct mark set " + mark(generation) + " accept";
        String c = chain(vmId);
        List<String> s = new ArrayList<>();
        String br = "add rule bridge " + TABLE + " " + c;
        s.add("add table bridge " + TABLE);
        s.add("add chain bridge " + TABLE + " " + c + "-prerouting { type filter hook prerouting priority filter; policy accept; }");
        s.add("flush chain bridge " + TABLE + " " + c + "-prerouting");
        // Its own MAC only, ARP for its own address only: a clone or fork's child, restored with its
        // source's MAC and address until the agent changes them, must not teach the bridge or the
        // host's neighbour table that the source lives on its port.
        s.add(br + "-prerouting iifname \"" + tap + "\" ether saddr != " + vmMac + " drop");
        s.add(br + "-prerouting iifname \"" + tap + "\" ether type arp arp saddr ip != " + vmIp + " drop");
        s.add(br + "-prerouting iifname \"" + tap + "\" ether type ip ip saddr != " + vmIp + " drop");
        s.add(br + "-prerouting iifname \"" + tap + "\" ether type ip6 drop");
        s.add("add chain bridge " + TABLE + " " + c + "-forward { type filter hook forward priority filter; policy accept; }");
        s.add("flush chain bridge " + TABLE + " " + c + "-forward");
        s.add(br + "-forward iifname \"" + tap + "\" ether type arp accept");
        s.add(pins(vmId, policy));
        for (int i = 0; i < policy.allow().size(); i++) {
            s.add(match(br + "-forward iifname \"" + tap + "\" ", vmId, policy, true, i, "accept"));
        }
        s.add(br + "-forward iifname \"" + tap + "\" drop");
        s.add("add chain inet " + TABLE + " " + c);
        s.add("flush chain inet " + TABLE + " " + c);
        s.add("add chain inet " + TABLE + " " + c + "-forward { type filter hook forward priority filter; policy accept; }");
        s.add("flush chain inet " + TABLE + " " + c + "-forward");
        String from = "iifname \"" + bridge + "\" ip saddr " + vmIp;
        s.add("add rule inet " + TABLE + " " + c + "-forward " + from + " jump " + c + " comment \"smartvm:" + vmId + "\"");
        s.add("add chain inet " + TABLE + " " + c + "-input { type filter hook input priority filter; policy accept; }");
        s.add("flush chain inet " + TABLE + " " + c + "-input");
        String rule = "add rule inet " + TABLE + " " + c + " ";
        s.addAll(judged(rule, generation));
        s.add(rule + "meta nfproto ipv6 drop"); // IPv4 only: nothing leaves unmatched by another family
        for (int i = 0; i < policy.deny().size(); i++) {
            s.add(match(rule, vmId, policy, false, i, "drop"));
        }
        for (int i = 0; i < policy.allow().size(); i++) {
            s.add(match(rule, vmId, policy, true, i, passed));
        }
        s.add(rule + "ip daddr " + LINK_LOCAL + " drop");
        s.add(rule + "ip daddr " + vmNetwork + " drop");
        for (String host : hostAddresses) {
            s.add(rule + "ip daddr " + host + " drop");
        }
        s.add(rule + (policy.allow().isEmpty() ? passed : "drop"));
        // To the host itself (its gateway address and any other): only what the policy allows.
        String in = "add rule inet " + TABLE + " " + c + "-input " + from + " ";
        s.addAll(judged(in, generation));
        for (int i = 0; i < policy.allow().size(); i++) {
            s.add(match(in, vmId, policy, true, i, passed));
        }
        s.add(in + "drop");
        return String.join("\n", s) + "\n";
    }

    /** What passes before the rules are asked: answers, related ICMP, and connections these rules let through already. */
    private static List<String> judged(String rule, int generation) {
        return List.of(rule + "ct direction reply accept", rule + "ct state related accept",
                rule + "ct mark " + mark(generation) + " accept");
    }

    /** Deletes the VM's sets ({@code FAMILY NAME}, {@link Nft#vmSets}) that {@code policy} does not use, after its rules replaced the old. */
    static String deleteUnused(String vmId, EgressPolicy policy, List<String> sets) {
        java.util.Set<String> used = setNames(vmId, policy);
        return sets.stream().filter(set -> !used.contains(set.substring(set.indexOf(' ') + 1)))
                .map(set -> "delete set " + set.replace(" ", " " + TABLE + " ") + "\n").collect(Collectors.joining());
    }

    /** The names of the sets {@code policy}'s hostname rules use. */
    static java.util.Set<String> setNames(String vmId, EgressPolicy policy) {
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (boolean allow : new boolean[] {true, false}) {
            List<EgressRule> rules = allow ? policy.allow() : policy.deny();
            for (int i = 0; i < rules.size(); i++) {
                if (rules.get(i).host() != null) {
                    names.add(setName(vmId, allow, i));
                }
            }
        }
        return names;
    }

    private static String match(String prefix, String vmId, EgressPolicy policy, boolean allow, int i, String verdict) {
        EgressRule r = (allow ? policy.allow() : policy.deny()).get(i);
        String daddr = r.host() != null ? "@" + setName(vmId, allow, i)
                : r.cidrs().size() == 1 ? r.cidrs().get(0) : "{ " + String.join(", ", r.cidrs()) + " }";
        String port = r.port() == 0 ? "" : " meta l4proto { tcp, udp } th dport " + r.port();
        return prefix + "ip daddr " + daddr + port + " " + verdict;
    }

    /** The set holding the addresses of the i-th allow (or deny) rule's hostname. */
    static String setName(String vmId, boolean allow, int i) {
        return chain(vmId) + (allow ? "-a" : "-d") + i;
    }

    /**
     * The nft script that (re)fills the sets of the policy's hostnames with their current
     * addresses, in both tables; applied alone when a name is resolved again.
     */
    public static String pins(String vmId, EgressPolicy policy) {
        List<String> s = new ArrayList<>();
        s.add("add table bridge " + TABLE);
        s.add("add table inet " + TABLE);
        for (boolean allow : new boolean[] {true, false}) {
            List<EgressRule> rules = allow ? policy.allow() : policy.deny();
            for (int i = 0; i < rules.size(); i++) {
                if (rules.get(i).host() == null) {
                    continue;
                }
                String elements = rules.get(i).cidrs().stream().map(a -> a.replace("/32", "")).collect(Collectors.joining(", "));
                for (String family : List.of("bridge", "inet")) {
                    String set = family + " " + TABLE + " " + setName(vmId, allow, i);
                    s.add("add set " + set + " { type ipv4_addr; }");
                    s.add("flush set " + set);
                    s.add("add element " + set + " { " + elements + " }");
                }
            }
        }
        return String.join("\n", s);
    }

    /**
     * The nft script that publishes the VM's ports: DNAT of connections made on the host
     * (output) and arriving from elsewhere (prerouting) to the VM, and masquerading of those
     * that come from 127.0.0.1 (the kernel would drop a loopback source on the bridge otherwise).
     */
    public static String publish(String vmId, String vmIp, List<PortMapping> ports) {
        String c = chain(vmId);
        List<String> s = new ArrayList<>();
        s.add("add table inet " + TABLE);
        s.add("add chain inet " + TABLE + " " + c + "-dnat-output { type nat hook output priority -100; }");
        s.add("flush chain inet " + TABLE + " " + c + "-dnat-output");
        s.add("add chain inet " + TABLE + " " + c + "-dnat-prerouting { type nat hook prerouting priority -100; }");
        s.add("flush chain inet " + TABLE + " " + c + "-dnat-prerouting");
        s.add("add chain inet " + TABLE + " " + c + "-snat { type nat hook postrouting priority srcnat; }");
        s.add("flush chain inet " + TABLE + " " + c + "-snat");
        for (PortMapping p : ports) {
            String to = " " + p.protocol() + " dport " + p.hostPort() + " dnat ip to " + vmIp + ":" + p.guestPort();
            String where = p.anyAddress() ? "fib daddr type local" : "ip daddr " + p.address();
            s.add("add rule inet " + TABLE + " " + c + "-dnat-output " + where + to);
            if (!p.loopback()) {
                s.add("add rule inet " + TABLE + " " + c + "-dnat-prerouting " + where + to);
            }
            s.add("add rule inet " + TABLE + " " + c + "-snat ip saddr 127.0.0.0/8 ip daddr " + vmIp + " " + p.protocol() + " dport " + p.guestPort()
                    + " masquerade");
        }
        return String.join("\n", s) + "\n";
    }

    /** The commands that remove the VM's chains (and nothing else), one a line; see {@link Nft#removeVm}. */
    public static String remove(String vmId) {
        String c = chain(vmId);
        return "delete chain inet " + TABLE + " " + c + "-forward\ndelete chain inet " + TABLE + " " + c + "-input\n"
                + "delete chain inet " + TABLE + " " + c + "\ndelete chain bridge " + TABLE + " " + c + "-prerouting\n"
                + "delete chain bridge " + TABLE + " " + c + "-forward\ndelete chain inet " + TABLE + " " + c + "-dnat-output\n"
                + "delete chain inet " + TABLE + " " + c + "-dnat-prerouting\ndelete chain inet " + TABLE + " " + c + "-snat\n";
    }
}

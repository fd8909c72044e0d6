package dev.smartvm.net;

import java.util.ArrayList;
import java.util.List;

/**
 * The nftables rules of one VM's egress policy, in SmartVM's own tables ({@code inet smartvm}
 * and {@code bridge smartvm}). Each VM has its chains, named after its id:
 * <ul>
 * <li>bridge prerouting: what enters from its TAP must carry its address (no spoofing);</li>
 * <li>bridge forward: what it sends straight to another port of the bridge (another VM) is
 * dropped unless allowed (the bridge has no connection tracking here, so two VMs that are to
 * talk must each allow the other);</li>
 * <li>inet forward and input: what the host routes for it, and what it sends to the host
 * itself, matched by its (unspoofable) address on the bridge.</li>
 * </ul>
 * Removing the VM's chains removes exactly what it added.
 */
public final class NftRules {
    public static final String TABLE = "smartvm";
    static final String LINK_LOCAL = "169.254.0.0/16";

    private NftRules() {
    }

    static String chain(String vmId) {
        return "vm-" + vmId;
    }

    /** The nft script that installs (or replaces) the VM's rules. */
    public static String install(String vmId, String bridge, String tap, String vmIp, Subnet vmNetwork,
            List<String> hostAddresses, EgressPolicy policy) {
        String c = chain(vmId);
        List<String> s = new ArrayList<>();
        String br = "add rule bridge " + TABLE + " " + c;
        s.add("add table bridge " + TABLE);
        s.add("add chain bridge " + TABLE + " " + c + "-prerouting { type filter hook prerouting priority filter; policy accept; }");
        s.add("flush chain bridge " + TABLE + " " + c + "-prerouting");
        s.add(br + "-prerouting iifname \"" + tap + "\" ether type ip ip saddr != " + vmIp + " drop");
        s.add(br + "-prerouting iifname \"" + tap + "\" ether type ip6 drop");
        s.add("add chain bridge " + TABLE + " " + c + "-forward { type filter hook forward priority filter; policy accept; }");
        s.add("flush chain bridge " + TABLE + " " + c + "-forward");
        s.add(br + "-forward iifname \"" + tap + "\" ether type arp accept");
        for (EgressRule r : policy.allow()) {
            s.addAll(match(br + "-forward iifname \"" + tap + "\" ", r, "accept"));
        }
        s.add(br + "-forward iifname \"" + tap + "\" drop");
        s.add("add table inet " + TABLE);
        s.add("add chain inet " + TABLE + " " + c);
        s.add("flush chain inet " + TABLE + " " + c);
        s.add("add chain inet " + TABLE + " " + c + "-forward { type filter hook forward priority filter; policy accept; }");
        s.add("flush chain inet " + TABLE + " " + c + "-forward");
        String from = "iifname \"" + bridge + "\" ip saddr " + vmIp;
        s.add("add rule inet " + TABLE + " " + c + "-forward " + from + " jump " + c + " comment \"smartvm:" + vmId + "\"");
        s.add("add chain inet " + TABLE + " " + c + "-input { type filter hook input priority filter; policy accept; }");
        s.add("flush chain inet " + TABLE + " " + c + "-input");
        String rule = "add rule inet " + TABLE + " " + c + " ";
        s.add(rule + "ct state established,related accept");
        s.add(rule + "meta nfproto ipv6 drop"); // IPv4 only: nothing leaves unmatched by another family
        for (EgressRule r : policy.deny()) {
            s.addAll(match(rule, r, "drop"));
        }
        for (EgressRule r : policy.allow()) {
            s.addAll(match(rule, r, "accept"));
        }
        s.add(rule + "ip daddr " + LINK_LOCAL + " drop");
        s.add(rule + "ip daddr " + vmNetwork + " drop");
        for (String host : hostAddresses) {
            s.add(rule + "ip daddr " + host + " drop");
        }
        s.add(rule + (policy.allow().isEmpty() ? "accept" : "drop"));
        // To the host itself (its gateway address and any other): only what the policy allows.
        String in = "add rule inet " + TABLE + " " + c + "-input " + from + " ";
        s.add(in + "ct state established,related accept");
        for (EgressRule r : policy.allow()) {
            s.addAll(match(in, r, "accept"));
        }
        s.add(in + "drop");
        return String.join("\n", s) + "\n";
    }

    private static List<String> match(String prefix, EgressRule r, String verdict) {
        List<String> out = new ArrayList<>();
        String set = r.cidrs().size() == 1 ? r.cidrs().get(0) : "{ " + String.join(", ", r.cidrs()) + " }";
        String port = r.port() == 0 ? "" : " meta l4proto { tcp, udp } th dport " + r.port();
        out.add(prefix + "ip daddr " + set + port + " " + verdict);
        return out;
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

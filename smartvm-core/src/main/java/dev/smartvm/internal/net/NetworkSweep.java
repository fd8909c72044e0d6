package dev.smartvm.internal.net;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.Leftover;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.Sweep;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Garbage collection of host networking: the leases, published ports, nft rules and TAP devices
 * of VMs that are not running, and the bridge when no VM is attached. A VM counts as running
 * when its directory, as recorded at attach, holds a live VM (the caller tells). The host's
 * network ({@link HostNetwork#forHost}) sweeps every SmartVM TAP and rule on the host; one of
 * another state directory (a test's) only what its own state records or its bridge holds.
 */
final class NetworkSweep {
    private static final Pattern TAP = Pattern.compile("sv[0-9a-f]{13}");

    private final HostNetwork host;
    private final NetworkManager manager;
    private final Nft nft;
    private final boolean hostWide;

    NetworkSweep(HostNetwork host, NetworkManager manager, Nft nft, Path stateDir) {
        this.host = host;
        this.manager = manager;
        this.nft = nft;
        this.hostWide = stateDir.toAbsolutePath().normalize().equals(Path.of(HostNetwork.DEFAULT_STATE_DIR));
    }

    /** Under the host lock: what no running VM holds, found and (unless a dry run) given back. */
    void sweep(Sweep sweep, Predicate<Path> runningIn, Set<String> leftToOthers) {
        Map<String, String> dirs = host.vmDirs();
        Set<String> running = new HashSet<>(leftToOthers);
        dirs.forEach((id, dir) -> {
            if (runningIn.test(Path.of(dir))) {
                running.add(id);
            }
        });
        Set<String> known = new TreeSet<>(dirs.keySet());
        Map<String, String> leases = manager.leases();
        leases.forEach((ip, id) -> {
            known.add(id);
            if (!running.contains(id)) {
                sweep.found(Leftover.Kind.LEASE, ip, "leased to VM " + id + ", which is not running",
                        () -> manager.releaseIp(ip, id));
            }
        });
        host.ports().forEach((port, id) -> {
            known.add(id);
            if (!running.contains(id)) {
                sweep.found(Leftover.Kind.PORT, port, "published for VM " + id + ", which is not running",
                        () -> host.releasePort(port, id));
            }
        });
        for (String id : nft.vmIds()) {
            if (!running.contains(id) && (hostWide || known.contains(id))) {
                sweep.found(Leftover.Kind.NFT_RULES, NftRules.chain(id), "the rules of VM " + id + ", which is not running",
                        () -> nft.removeVm(id));
            }
        }
        Set<String> runningTaps = new HashSet<>();
        running.forEach(id -> runningTaps.add(NetworkManager.generateTapName(id, "eth0")));
        for (JsonNode link : taps()) {
            String name = link.path("ifname").asText();
            String master = link.path("master").asText("");
            boolean ours = hostWide ? master.isEmpty() || master.startsWith("smartvm") || master.equals(manager.bridge())
                    : master.equals(manager.bridge());
            if (TAP.matcher(name).matches() && ours && !runningTaps.contains(name)) {
                sweep.found(Leftover.Kind.TAP, name, "a VM's TAP device, and no running VM has it",
                        () -> host.deleteLink(name));
            }
        }
        if (!sweep.dryRun()) {
            dirs.keySet().stream().filter(id -> !running.contains(id)).forEach(host::forgetDir);
        }
        boolean noneLeft = leases.values().stream().allMatch(id -> !running.contains(id));
        if (noneLeft && host.linkExists(manager.bridge())) {
            sweep.found(Leftover.Kind.BRIDGE, manager.bridge(), "no VM is attached to it", host::tearDownIfUnused);
        }
    }

    /** The TAP devices of the host ({@code ip -j link show type tun}). */
    private List<JsonNode> taps() {
        var r = host.ip("-j", "link", "show", "type", "tun");
        if (r.exitCode() != 0) {
            return List.of();
        }
        try {
            List<JsonNode> out = new java.util.ArrayList<>();
            Json.MAPPER.readTree(r.stdout()).forEach(out::add);
            return out;
        } catch (IOException e) {
            return List.of();
        }
    }
}

package dev.smartvm.internal.net;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.smartvm.ErrorCode;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.HostUser;
import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.io.Sweep;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The host side of VM networking (root only): the bridge carrying the gateway address, IP
 * forwarding, NAT of the VM subnet out of the host's other interfaces, and per VM a TAP device
 * on the bridge plus its egress rules. The bridge, NAT and forwarding exist while some VM is
 * attached and go with the last one (forwarding is put back as it was). Changes are serialized by a file lock, across processes too; a failure
 * half-way rolls back what that attach made.
 *
 * <p>Its state (leases, published ports, which VM directory each attached VM lives in) is
 * host-wide, as the bridge and the nft table are: by default under {@value #DEFAULT_STATE_DIR},
 * shared by every {@code $SMARTVM_HOME} on the host and gone after a reboot, with the devices
 * and rules it describes. A VM whose directory has vanished (its home deleted before anything
 * reaped it) can never be reaped by its home, so each attach and detach gives back its TAP,
 * rules, ports and address.
 */
public final class HostNetwork {
    private static final Path IP = Path.of("/usr/sbin/ip");
    private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");
    /** Where host networking keeps its state unless told otherwise (a tmpfs: a reboot clears it). */
    public static final String DEFAULT_STATE_DIR = "/run/smartvm/net";
    private static final String PORTS = "ports.json";
    private static final String VM_DIRS = "vm-dirs.json";

    private final NetworkManager manager;
    private final CommandRunner runner;
    private final Nft nft;
    private final Path stateDir;
    private final EgressStates egress;

    public HostNetwork(NetworkManager manager, Path stateDir, CommandRunner runner) {
        this.manager = manager;
        this.stateDir = stateDir;
        this.egress = new EgressStates(stateDir);
        this.runner = runner;
        this.nft = new Nft(runner);
    }

    /** What one VM got: its TAP, address and MAC, and the kernel argument that configures its eth0. */
    public record Attachment(String vmId, String tap, String ip, String mac, String bootArgs) {
    }

    /** The host's VM network: one bridge, one nft table and one state for every home on the host. */
    public static HostNetwork forHost(CommandRunner runner) {
        Path state = Path.of(DEFAULT_STATE_DIR);
        return new HostNetwork(new NetworkManager(state), state, runner);
    }

    /** Whether this process may set up host networking (root, with iproute2 and nftables). */
    public static String unavailableReason() {
        if (!HostUser.isRoot()) {
            return "VM networking needs root (TAP devices, a bridge and nftables rules)";
        }
        if (!Files.isExecutable(IP)) {
            return "VM networking needs iproute2: apt-get install iproute2";
        }
        if (!Nft.available()) {
            return "VM networking needs nftables: apt-get install nftables";
        }
        return null;
    }

    /**
     * How a VM with network {@code net} is connected, decided once when it boots: null without a
     * network; for AUTO, BRIDGE where this process can set one up (root, iproute2, nftables), or
     * where egress rules or a UDP port ask for one, or where the engine has no user-mode network;
     * USER otherwise.
     *
     * @throws SmartVmException INVALID_ARGUMENT for USER on an engine without a user-mode network
     */
    public static NetworkSpec.Mode decideMode(NetworkSpec net, String backendName, boolean engineHasUserMode) {
        if (!net.enabled()) {
            return null;
        }
        if (net.mode() == NetworkSpec.Mode.USER && !engineHasUserMode) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "the " + backendName + " backend has no user-mode"
                    + " network; use the bridge (root)");
        }
        if (net.mode() != NetworkSpec.Mode.AUTO) {
            return net.mode();
        }
        boolean bridgeable = unavailableReason() == null;
        boolean asksForBridge = !net.allow().isEmpty() || !net.deny().isEmpty() || net.publishesUdp();
        return bridgeable || asksForBridge || !engineHasUserMode ? NetworkSpec.Mode.BRIDGE : NetworkSpec.Mode.USER;
    }

    /** What {@link #attach} would give the VM, without attaching it: the address is leased at start. */
    public Attachment plan(String vmId) {
        return new Attachment(vmId, NetworkManager.generateTapName(vmId, "eth0"), null, NetworkManager.generateMac(vmId, "eth0"),
                manager.bootArgsFor("ADDRESS"));
    }

    /**
     * Attaches the VM whose state lives in {@code vmDir} and publishes {@code ports} (a host port
     * already published by another VM is refused). Once {@code vmDir} is gone, whatever this VM
     * still holds is given back by the next attach or detach of any VM.
     */
    @SuppressWarnings("try") // the lock is held for the block
    public Attachment attach(String vmId, Path vmDir, EgressPolicy policy, List<PortMapping> ports) {
        String why = unavailableReason();
        if (why != null) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, why);
        }
        String tap = NetworkManager.generateTapName(vmId, "eth0");
        String ip = null;
        boolean tapMade = false;
        try (LockFile lock = LockFile.acquire(stateDir.resolve("host.lock"))) {
            releaseVanished();
            try {
                recordDir(vmId, vmDir);
                ip = manager.allocateIp(vmId);
                ensureBridge();
                run("tuntap", "add", "dev", tap, "mode", "tap");
                tapMade = true;
                run("link", "set", tap, "master", manager.bridge(), "up");
                nft.apply(NftRules.install(vmId, manager.bridge(), tap, NetworkManager.generateMac(vmId, "eth0"), ip,
                        manager.subnet(), List.of(manager.gateway()), policy, 1));
                egress.put(vmId, EgressStates.Entry.of(policy, 1));
                if (!ports.isEmpty()) {
                    claimPorts(vmId, ports);
                    Files.writeString(Path.of("/proc/sys/net/ipv4/conf", manager.bridge(), "route_localnet"), "1");
                    nft.apply(NftRules.publish(vmId, ip, ports));
                }
                return new Attachment(vmId, tap, ip, NetworkManager.generateMac(vmId, "eth0"), manager.bootArgs(ip));
            } catch (IOException e) {
                undo(vmId, tapMade ? tap : null, ip);
                throw new SmartVmException(ErrorCode.IO_ERROR, "cannot publish ports: " + e.getMessage(), e);
            } catch (RuntimeException e) {
                undo(vmId, tapMade ? tap : null, ip);
                throw e;
            }
        }
    }

    /**
     * Puts the current addresses of the policy's hostnames in the VM's sets; false (and nothing
     * changed) when the VM holds no address any more, having been detached meanwhile, or when its
     * rules were replaced by others ({@link #replaceEgress}).
     */
    @SuppressWarnings("try") // the lock is held for the block
    public boolean repin(String vmId, EgressPolicy policy) {
        try (LockFile lock = LockFile.acquire(stateDir.resolve("host.lock"))) {
            if (!manager.leases().containsValue(vmId) || !egress.get(vmId).map(e -> e.sameRules(policy)).orElse(true)) {
                return false; // detached, or its rules were replaced: these pins are done
            }
            nft.apply(NftRules.pins(vmId, policy) + "\n");
            return true;
        }
    }

    /**
     * Replaces an attached VM's egress rules in one nft transaction with the next generation's,
     * which judge every open connection again, and deletes the sets of hostname rules it no
     * longer has. Whoever kept the old rules' hostnames resolved stops ({@link #repin}).
     *
     * @throws SmartVmException INVALID_STATE when the VM holds no address on the bridge
     */
    @SuppressWarnings("try") // the lock is held for the block
    public void replaceEgress(Attachment attached, EgressPolicy policy) {
        String vmId = attached.vmId();
        try (LockFile lock = LockFile.acquire(stateDir.resolve("host.lock"))) {
            if (!vmId.equals(manager.leases().get(attached.ip()))) {
                throw new SmartVmException(ErrorCode.INVALID_STATE, "VM " + vmId + " holds no address on the bridge any more");
            }
            int generation = egress.get(vmId).map(EgressStates.Entry::generation).orElse(1) + 1;
            nft.apply(NftRules.install(vmId, manager.bridge(), attached.tap(), attached.mac(), attached.ip(), manager.subnet(),
                    List.of(manager.gateway()), policy, generation) + NftRules.deleteUnused(vmId, policy, nft.vmSets(vmId)));
            egress.put(vmId, EgressStates.Entry.of(policy, generation));
        }
    }

    /**
     * Removes what {@link #attach} made for the VM; safe to call twice, or for a half-made attach.
     * A null {@code ip} means whatever address the VM holds.
     */
    @SuppressWarnings("try") // the lock is held for the block
    public void detach(String vmId, String tap, String ip) {
        try (LockFile lock = LockFile.acquire(stateDir.resolve("host.lock"))) {
            releaseVanished();
            undo(vmId, tap, ip);
        }
    }

    private void undo(String vmId, String tap, String ip) {
        release(vmId, tap, ip);
        tearDownIfUnused();
    }

    /**
     * Gives back what one VM holds; a null {@code ip} is looked up among the leases (a VM whose
     * starter died before its record named its address). Under the host lock.
     */
    private void release(String vmId, String tap, String ip) {
        if (ip == null) {
            ip = leaseOf(vmId);
        }
        nft.removeVm(vmId);
        if (tap != null) {
            runner.run(List.of(IP.toString(), "link", "del", tap), null, Duration.ofSeconds(30));
        }
        releasePorts(vmId);
        egress.remove(vmId);
        if (ip != null) {
            manager.releaseIp(ip, vmId);
        }
        forgetDir(vmId);
    }

    /**
     * Releases the VMs whose directory is gone: nothing can reap them any more. Under the host
     * lock; a VM that never recorded its directory is left alone.
     */
    private void releaseVanished() {
        for (var e : vmDirs().entrySet()) {
            if (!Files.isDirectory(Path.of(e.getValue()))) {
                String vmId = e.getKey();
                release(vmId, NetworkManager.generateTapName(vmId, "eth0"), null);
            }
        }
    }

    /** The address leased to the VM, or null. Under the host lock. */
    private String leaseOf(String vmId) {
        return manager.leases().entrySet().stream().filter(l -> l.getValue().equals(vmId)).map(Map.Entry::getKey)
                .findFirst().orElse(null);
    }

    /**
     * Garbage collection: the leases, ports, rules and TAPs of VMs not running (those whose
     * recorded directory {@code runningIn} rejects, bar {@code leftToOthers}, whose homes remove
     * them), and the bridge when no VM is attached, found and (unless a dry run) given back.
     */
    @SuppressWarnings("try") // the lock is held for the block
    public void sweep(Sweep sweep, Predicate<Path> runningIn, Set<String> leftToOthers) {
        if (unavailableReason() != null) {
            return; // none could have been made
        }
        try (LockFile lock = LockFile.acquire(stateDir.resolve("host.lock"))) {
            new NetworkSweep(this, manager, nft, stateDir).sweep(sweep, runningIn, leftToOthers);
        }
    }

    /** The bridge, NAT, empty tables and forwarding go when no VM holds an address. Under the host lock. */
    void tearDownIfUnused() {
        if (manager.leases().isEmpty()) {
            runner.run(List.of(Nft.NFT.toString(), "delete", "chain", "inet", NftRules.TABLE, "nat-postrouting"), null,
                    Duration.ofSeconds(30));
            runner.run(List.of(IP.toString(), "link", "del", manager.bridge()), null, Duration.ofSeconds(30));
            nft.deleteTablesIfEmpty();
            restoreForwarding();
        }
    }

    /** A JSON object of strings in the state directory (empty when the file is missing). Under the host lock. */
    private Map<String, String> readMap(String file) {
        return Json.readOr(stateDir.resolve(file), new TypeReference<TreeMap<String, String>>() { }, new TreeMap<>());
    }

    private void writeMap(String file, Map<String, String> map) {
        Json.write(stateDir.resolve(file), map);
    }

    /** The VM directories of attached VMs: VM id to directory. Under the host lock. */
    Map<String, String> vmDirs() {
        return readMap(VM_DIRS);
    }

    /** Forgets where a VM lives. Under the host lock. */
    void forgetDir(String vmId) {
        Map<String, String> dirs = vmDirs();
        if (dirs.remove(vmId) != null) {
            writeMap(VM_DIRS, dirs);
        }
    }

    /** The published host ports: host side to VM id. Under the host lock. */
    Map<String, String> ports() {
        return readMap(PORTS);
    }

    /** Unpublishes one host port if {@code vmId} holds it. Under the host lock. */
    void releasePort(String hostSide, String vmId) {
        Map<String, String> taken = readMap(PORTS);
        if (taken.remove(hostSide, vmId)) {
            writeMap(PORTS, taken);
        }
    }

    boolean linkExists(String name) {
        return ip("link", "show", name).exitCode() == 0;
    }

    void deleteLink(String name) {
        ip("link", "del", name).orThrow(ErrorCode.IO_ERROR);
    }

    CommandResult ip(String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of(IP.toString()));
        argv.addAll(List.of(args));
        return runner.run(argv, null, Duration.ofSeconds(30));
    }

    private void recordDir(String vmId, Path vmDir) {
        Map<String, String> dirs = vmDirs();
        dirs.put(vmId, vmDir.toAbsolutePath().toString());
        writeMap(VM_DIRS, dirs);
    }

    /** Records the VM's host ports; one published by another VM (on that or every address) is refused. Under the host lock. */
    private void claimPorts(String vmId, List<PortMapping> mappings) {
        Map<String, String> taken = readMap(PORTS);
        for (PortMapping p : mappings) {
            for (var e : taken.entrySet()) {
                if (p.clashesWith(PortMapping.fromHostSide(e.getKey())) && !e.getValue().equals(vmId)) {
                    throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "host port " + e.getKey() + " is already published by VM "
                            + e.getValue());
                }
            }
        }
        for (PortMapping p : mappings) {
            taken.put(p.hostSide(), vmId);
        }
        writeMap(PORTS, taken);
    }

    private void releasePorts(String vmId) {
        Map<String, String> taken = readMap(PORTS);
        if (taken.values().removeIf(vmId::equals)) {
            writeMap(PORTS, taken);
        }
    }

    /** Puts IP forwarding back as it was before the first VM was attached. */
    private void restoreForwarding() {
        Path saved = stateDir.resolve("ip_forward.before");
        try {
            if (Files.isRegularFile(saved)) {
                Files.writeString(IP_FORWARD, Files.readString(saved).strip());
                Files.delete(saved);
            }
        } catch (IOException e) {
            // forwarding stays on: harmless without the bridge
        }
    }

    private void ensureBridge() {
        if (!linkExists(manager.bridge())) {
            // A MAC of its own: a bridge without one takes its ports' lowest, and changes it as TAPs come and go,
            // while its VMs keep the gateway's old MAC in their ARP caches (a fork's source lost its network so)
            run("link", "add", manager.bridge(), "address", NetworkManager.generateMac("bridge", manager.bridge()), "type", "bridge");
            run("addr", "add", manager.gateway() + "/" + manager.subnet().prefix(), "dev", manager.bridge());
            run("link", "set", manager.bridge(), "up");
        }
        try {
            Path saved = stateDir.resolve("ip_forward.before");
            if (!Files.exists(saved)) {
                Files.createDirectories(stateDir);
                Files.writeString(saved, Files.readString(IP_FORWARD).strip());
            }
            Files.writeString(IP_FORWARD, "1");
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "cannot enable IP forwarding: " + e.getMessage(), e);
        }
        nft.apply("add table inet " + NftRules.TABLE + "\n"
                + "add chain inet " + NftRules.TABLE + " nat-postrouting { type nat hook postrouting priority srcnat; }\n"
                + "flush chain inet " + NftRules.TABLE + " nat-postrouting\n"
                + "add rule inet " + NftRules.TABLE + " nat-postrouting ip saddr " + manager.subnet() + " oifname != \""
                + manager.bridge() + "\" masquerade\n");
    }

    private void run(String... args) {
        ip(args).orThrow(ErrorCode.HOST_DEPENDENCY_MISSING);
    }
}

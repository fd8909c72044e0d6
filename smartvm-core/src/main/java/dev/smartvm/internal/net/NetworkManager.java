package dev.smartvm.internal.net;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.LockFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The VM network's addresses and names, with the seed's semantics: a subnet (default
 * {@value #DEFAULT_SUBNET}) whose first address is the gateway on the bridge; guests get the
 * lowest free address after it, in order, and released ones are handed out again. Leases are
 * kept in {@code leases.json} under the state directory and changed under a file lock, so VMs
 * of several threads and processes never share an address.
 */
public final class NetworkManager {
    public static final String DEFAULT_SUBNET = "172.30.0.0/24";
    public static final String DEFAULT_BRIDGE = "smartvm0";
    /** Linux interface names are at most 15 bytes (IFNAMSIZ - 1). */
    public static final int MAX_INTERFACE_NAME = 15;
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,14}");

    private final Subnet subnet;
    private final String bridge;
    private final Path stateDir;

    /**
     * @param stateDir where leases are kept (for VMs: {@link HostNetwork#DEFAULT_STATE_DIR})
     * @throws SmartVmException INVALID_SUBNET or INVALID_INTERFACE_NAME
     */
    public NetworkManager(String subnet, String bridge, Path stateDir) {
        this.subnet = Subnet.parse(subnet);
        this.bridge = checkInterfaceName(bridge);
        this.stateDir = stateDir;
    }

    public NetworkManager(Path stateDir) {
        this(DEFAULT_SUBNET, DEFAULT_BRIDGE, stateDir);
    }

    public Subnet subnet() {
        return subnet;
    }

    public String bridge() {
        return bridge;
    }

    public String gateway() {
        return subnet.gateway();
    }

    /** A name Linux takes for an interface: 1 to 15 letters, digits, '_', '.' or '-', no spaces. */
    public static String checkInterfaceName(String name) {
        if (name == null || !INTERFACE.matcher(name).matches()) {
            throw new SmartVmException(ErrorCode.INVALID_INTERFACE_NAME, "'" + name + "' is not an interface name: 1 to "
                    + MAX_INTERFACE_NAME + " letters, digits, '_', '.' or '-', starting with a letter or digit");
        }
        return name;
    }

    private record Leases(Map<String, String> byAddress) {
        Leases {
            byAddress = byAddress == null ? new TreeMap<>() : new TreeMap<>(byAddress);
        }
    }

    /** The lowest free guest address, leased to nobody in particular. */
    public String allocateIp() {
        return allocateIp("-");
    }

    /** The lowest free guest address, leased to {@code owner} (a VM id); IP_EXHAUSTED when none is left. */
    @SuppressWarnings("try") // the lock is held for the block
    public String allocateIp(String owner) {
        try (LockFile lock = LockFile.acquire(stateDir.resolve("leases.lock"))) {
            Leases leases = read();
            for (long a = subnet.firstGuest(); a <= subnet.lastGuest(); a++) {
                String ip = Subnet.format(a);
                if (!leases.byAddress().containsKey(ip)) {
                    leases.byAddress().put(ip, owner);
                    Json.write(file(), leases);
                    return ip;
                }
            }
        }
        throw new SmartVmException(ErrorCode.IP_EXHAUSTED, "no free address left in " + subnet + " (" + subnet.guestCapacity()
                + " guests); remove VMs or choose a larger subnet");
    }

    /** Frees an address (a no-op for one that was not leased). */
    public void releaseIp(String ip) {
        releaseIp(ip, null);
    }

    /**
     * Frees an address if {@code owner} holds it (any owner when null): a late cleanup of a VM
     * never frees the address another VM was given since.
     */
    @SuppressWarnings("try") // the lock is held for the block
    public void releaseIp(String ip, String owner) {
        try (LockFile lock = LockFile.acquire(stateDir.resolve("leases.lock"))) {
            Leases leases = read();
            String holder = leases.byAddress().get(ip);
            if (holder != null && (owner == null || owner.equals(holder))) {
                leases.byAddress().remove(ip);
                Json.write(file(), leases);
            }
        }
    }

    /** Every current lease: address to owner. */
    @SuppressWarnings("try") // the lock is held for the block
    public Map<String, String> leases() {
        try (LockFile lock = LockFile.acquire(stateDir.resolve("leases.lock"))) {
            return Map.copyOf(read().byAddress());
        }
    }

    private Path file() {
        return stateDir.resolve("leases.json");
    }

    private Leases read() {
        return Files.isRegularFile(file()) ? Json.read(file(), Leases.class) : new Leases(null);
    }

    /** A stable, locally administered unicast MAC for a VM's interface: {@code 02:} then five bytes of a hash. */
    public static String generateMac(String vmId, String iface) {
        String h = Hashing.sha256((vmId + "/" + iface).getBytes(StandardCharsets.UTF_8));
        StringBuilder mac = new StringBuilder("02");
        for (int i = 0; i < 10; i += 2) {
            mac.append(':').append(h, i, i + 2);
        }
        return mac.toString();
    }

    /** A TAP device name for a VM's interface: {@code sv} and 13 hex digits of a hash, 15 characters in all. */
    public static String generateTapName(String vmId, String iface) {
        return "sv" + Hashing.sha256((vmId + "/" + iface).getBytes(StandardCharsets.UTF_8)).substring(0, 13);
    }

    /** The kernel's {@code ip=} argument that configures the guest's eth0 statically. */
    public String bootArgs(String guestIp) {
        if (!subnet.contains(guestIp)) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, guestIp + " is not in " + subnet);
        }
        return bootArgsFor(guestIp);
    }

    /** The same argument for {@code address} as written (a plan shows a placeholder: the address is leased at start). */
    public String bootArgsFor(String address) {
        return "ip=" + address + "::" + gateway() + ":" + subnet.netmask() + "::eth0:off";
    }
}

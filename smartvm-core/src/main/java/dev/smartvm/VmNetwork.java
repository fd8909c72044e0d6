package dev.smartvm;

/**
 * How a VM is connected: its mode, and while it runs its guest address, MAC and (bridge mode)
 * the host's TAP device.
 *
 * @param mode BRIDGE (SmartVM's bridge, egress rules on the host), USER (QEMU's isolated user
 *     network), or null for an engine's own network (smolvm), of which SmartVM knows no more
 * @param address the guest's IPv4 address while it runs, else null
 * @param mac the guest's MAC address while it runs, else null
 * @param tap the host's TAP device while it runs in bridge mode, else null
 */
public record VmNetwork(NetworkSpec.Mode mode, String address, String mac, String tap) {
}

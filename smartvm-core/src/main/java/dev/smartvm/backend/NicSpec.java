package dev.smartvm.backend;

/**
 * The VM's network interface: a TAP device on the host, the guest MAC, and what the kernel
 * command line must say for the agent to configure the guest's eth0.
 */
public record NicSpec(String tap, String mac, String kernelArgs) {
}

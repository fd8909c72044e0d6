package dev.smartvm.internal.qemu;

import dev.smartvm.Acceleration;
import dev.smartvm.internal.host.ConsoleRing;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.RestoreState;
import dev.smartvm.spi.TemplateClone;
import dev.smartvm.spi.TemplateMemory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** The argv of one QEMU microvm: virtio-mmio devices only, no firmware, no display, no defaults. */
final class QemuCommandLine {
    static final String AGENT_PORT = "smartvm.agent";
    /**
     * Agent ports per VM: QEMU's chardev serves one client at a time, so each host process that
     * uses the VM at the same time as others claims a port of its own (the agent serves each as a
     * session of its own). Cheap: a socket and a virtio queue pair each.
     */
    static final int AGENT_PORTS = 16;

    private QemuCommandLine() {
    }

    static Path qmpSocket(Path vmDir) {
        return vmDir.resolve("qmp.sock");
    }

    /** Port 0's socket is {@code agent.sock} (as it was with one port), port K's {@code agent-K.sock}. */
    static Path agentSocket(Path vmDir, int port) {
        return vmDir.resolve(port == 0 ? "agent.sock" : "agent-" + port + ".sock");
    }

    static List<Path> agentSockets(Path vmDir) {
        List<Path> sockets = new ArrayList<>();
        for (int k = 0; k < AGENT_PORTS; k++) {
            sockets.add(agentSocket(vmDir, k));
        }
        return sockets;
    }

    static Path consoleLog(Path vmDir) {
        return vmDir.resolve("console.log");
    }

    /**
     * {@code panic=-1 reboot=t}: a panicking guest resets at once by triple fault, which
     * {@code -no-reboot} turns into QEMU's exit. The default reboot methods can spin forever on
     * a microvm (no keyboard controller, no PCI reset port).
     */
    static String kernelArgs(BootRequest spec, OptionalLong tscKhz) {
        StringBuilder args = new StringBuilder("console=ttyS0 quiet panic=-1 reboot=t rdinit=/init smartvm.vmid=")
                .append(spec.vmId()).append(" smartvm.ports=").append(AGENT_PORTS);
        if (spec.acceleration() == Acceleration.TCG && tscKhz.isPresent()) {
            args.append(" tsc_early_khz=").append(tscKhz.getAsLong());
        }
        return args.append(spec.image().rootKernelArgs()).append(spec.nicKernelArgs()).toString();
    }

    /**
     * QEMU's user-mode network, restricted: the guest reaches nothing (neither the outside nor,
     * through 10.0.2.2, the host's own services); only the forwarded host ports reach in.
     */
    static String userNetdev(dev.smartvm.spi.NicSpec nic) {
        StringBuilder b = new StringBuilder("user,id=net0,net=10.0.2.0/24,host=10.0.2.2,restrict=on");
        for (var p : nic.hostForwards()) {
            b.append(",hostfwd=").append(p.protocol()).append(':').append(p.address()).append(':').append(p.hostPort())
                    .append("-:").append(p.guestPort());
        }
        return b.toString();
    }

    /** A VM's writable root disk: a qcow2 overlay over its image's disk, in its directory. */
    static Path rootOverlay(Path vmDir) {
        return vmDir.resolve("root.qcow2");
    }

    /** A path in a QEMU option value, where a comma is written twice. */
    static String optionPath(Path p) {
        return p.toAbsolutePath().toString().replace(",", ",,");
    }

    /**
     * The guest's memory, always the backend object {@code ram} (a saved state names its memory
     * by that id: a snapshot of a clone restores into anonymous memory): anonymous; or a file,
     * mapped shared (every guest write lands in it) for the VM that becomes a template, privately
     * (copy-on-write, the file never written) for its clones.
     */
    private static String memoryBackend(BootRequest spec) {
        Optional<TemplateMemory> template = spec.extension(TemplateMemory.class);
        Optional<TemplateClone> clone = spec.extension(TemplateClone.class);
        if (template.isEmpty() && clone.isEmpty()) {
            return "memory-backend-ram,id=ram,size=" + spec.memoryMib() + "M";
        }
        Path file = template.isPresent() ? template.get().file() : clone.get().memoryFile();
        return "memory-backend-file,id=ram,size=" + spec.memoryMib() + "M,mem-path=" + optionPath(file)
                + ",share=" + (template.isPresent() ? "on" : "off");
    }

    static List<String> build(String qemuBinary, BootRequest spec, OptionalLong tscKhz) {
        Path dir = spec.vmDir();
        String memory = memoryBackend(spec);
        List<String> a = new ArrayList<>(List.of(qemuBinary,
                "-name", "smartvm-" + spec.vmId(),
                "-machine", "microvm,accel=" + (spec.acceleration() == Acceleration.KVM ? "kvm" : "tcg") + ",memory-backend=ram",
                "-object", memory));
        if (spec.acceleration() == Acceleration.KVM) {
            a.addAll(List.of("-cpu", "host"));
        }
        a.addAll(List.of(
                "-smp", Integer.toString(spec.cpus()),
                "-m", spec.memoryMib() + "M",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
        boolean clone = spec.extension(TemplateClone.class).isPresent();
        if (!clone) { // a clone's kernel is in the template's memory already
            a.addAll(List.of("-kernel", spec.image().kernel().toString(),
                    "-initrd", spec.image().initrd().toString(),
                    "-append", kernelArgs(spec, tscKhz)));
        }
        a.addAll(List.of(
                // fd 3 is a pipe to the console log writer that runs QEMU (ConsoleRing): a bounded log
                "-chardev", "file,id=console,path=" + ConsoleRing.VMM_CONSOLE_PATH,
                "-serial", "chardev:console",
                "-chardev", "socket,id=qmp,path=" + qmpSocket(dir) + ",server=on,wait=off",
                "-mon", "chardev=qmp,mode=control",
                // port 0 of a virtio-serial device is kept for a console: the agent ports are 1..N
                "-device", "virtio-serial-device,max_ports=" + (AGENT_PORTS + 1),
                "-object", "rng-random,id=rng,filename=/dev/urandom",
                "-device", "virtio-rng-device,rng=rng"));
        for (int k = 0; k < AGENT_PORTS; k++) {
            String id = k == 0 ? "agent" : "agent" + k;
            a.addAll(List.of("-chardev", "socket,id=" + id + ",path=" + agentSocket(dir, k) + ",server=on,wait=off",
                    "-device", "virtserialport,chardev=" + id + ",name=" + AGENT_PORT + (k == 0 ? "" : "." + k)));
        }
        if (spec.nic() != null) {
            a.addAll(List.of("-netdev", spec.nic().userMode() ? userNetdev(spec.nic()) : "tap,id=net0,ifname=" + spec.nic().tap()
                    + ",script=no,downscript=no", "-device", "virtio-net-device,netdev=net0,mac=" + spec.nic().mac()));
        }
        if (spec.extension(RestoreState.class).isPresent() || clone) {
            a.addAll(List.of("-S", "-incoming", "defer")); // a saved state is loaded over QMP, then the VM runs
        }
        if (spec.image().rootDisk() != null) {
            // writable: the VM's own qcow2 overlay over the image's disk (kept across stop and start);
            // read-only: the image's disk, its writes (a journal replay) kept in memory and dropped
            String drive = spec.image().rootReadOnly() ? "file=" + spec.image().rootDisk() + ",format=raw,snapshot=on"
                    : "file=" + rootOverlay(dir) + ",format=qcow2";
            a.addAll(List.of("-drive", "id=root," + drive + ",if=none", "-device", "virtio-blk-device,drive=root"));
        }
        return a;
    }
}

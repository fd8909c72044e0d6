package dev.smartvm.internal.qemu;

import dev.smartvm.BootPlan;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.ConsoleRing;
import dev.smartvm.internal.host.Executables;
import dev.smartvm.internal.host.VmmLauncher;
import dev.smartvm.internal.io.AtomicFiles;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.snapshot.SavedStore;
import dev.smartvm.internal.io.TextFiles;
import dev.smartvm.spi.AttachSpec;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BootImage;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.Capability;
import dev.smartvm.spi.RestoreState;
import dev.smartvm.spi.TemplateClone;
import dev.smartvm.spi.TemplateMemory;
import dev.smartvm.spi.VmmProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Runs VMs with QEMU's microvm machine. */
public final class QemuBackend implements Backend {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final String qemuBinary;
    private final Path toolsDir;
    private final CommandRunner runner = CommandRunner.system();
    private volatile String version;

    /** @param toolsDir where the host tools SmartVM runs beside QEMU are kept (the console log writer) */
    public QemuBackend(String qemuBinary, Path toolsDir) {
        this.qemuBinary = qemuBinary;
        this.toolsDir = toolsDir;
    }

    /** QEMU from $SMARTVM_QEMU or the PATH; a missing QEMU is reported when a VM is launched. */
    public static QemuBackend fromEnvironment(Path toolsDir) {
        return new QemuBackend(findQemu().orElse(null), toolsDir);
    }

    public static Optional<String> findQemu() {
        return Executables.configuredOrOnPath("SMARTVM_QEMU", "qemu-system-x86_64").map(Path::toString);
    }

    @Override
    public String name() {
        return "qemu";
    }

    /** {@code qemu-system-x86_64 --version}'s first line, asked once: a saved state loads only into the same. */
    @Override
    public String version() {
        String v = version;
        if (v == null) {
            v = qemuBinary == null ? "unknown" : runner.run(List.of(qemuBinary, "--version"), null, Duration.ofSeconds(10))
                    .stdout().lines().findFirst().orElse("unknown").strip();
            version = v;
        }
        return v;
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.PAUSE, Capability.GUEST_USAGE, Capability.USER_MODE_NETWORK, Capability.SNAPSHOT, Capability.TEMPLATES,
                Capability.FORK);
    }

    @Override
    public VmmProcess launch(BootRequest spec) {
        Optional<TemplateClone> clone = spec.extension(TemplateClone.class);
        Optional<Path> savedState = spec.extension(RestoreState.class).map(RestoreState::snapshotDir)
                .or(() -> clone.map(TemplateClone::templateDir));
        QemuProcess vmm = spawn(spec);
        try {
            if (savedState.isPresent()) { // its QMP connection is the first: a clone's start counts milliseconds
                vmm.loadState(savedState.get(), clone.isPresent(), START_TIMEOUT, true);
            } else {
                QmpClient.connect(QemuCommandLine.qmpSocket(spec.vmDir()), START_TIMEOUT, vmm::isAlive).close();
            }
        } catch (SmartVmException e) {
            throw startFailure(vmm, spec.vmDir(), savedState.isPresent(), e);
        }
        return vmm;
    }

    /**
     * A QEMU that loads the restored state into the template's memory file (shared), paused,
     * saves its devices and disk into {@code templateDir}, and is killed: the guest never runs.
     */
    @Override
    public void templateFromState(BootRequest request, Path templateDir) {
        Path state = request.extension(RestoreState.class).map(RestoreState::snapshotDir).orElseThrow(
                () -> new IllegalArgumentException("no saved state to make a template of"));
        if (request.extension(TemplateMemory.class).isEmpty()) {
            throw new IllegalArgumentException("no memory file for the template");
        }
        QemuProcess vmm = spawn(request);
        Path pidFile = templateDir.resolve(SavedStore.VMM_PID);
        try {
            AtomicFiles.replace(pidFile, (vmm.pid() + " " + vmm.startedAt().toEpochMilli() + "\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            vmm.loadState(state, false, START_TIMEOUT, false);
            vmm.saveTemplate(templateDir);
        } catch (SmartVmException e) {
            throw startFailure(vmm, request.vmDir(), true, e);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write " + pidFile + ": " + e.getMessage(), e);
        } finally {
            vmm.kill();
            deleteIfExists(pidFile);
        }
    }

    /** The QEMU of {@code spec}, started: its directory, disk overlay and memory file made ready first. */
    private QemuProcess spawn(BootRequest spec) {
        if (qemuBinary == null) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING,
                    "qemu-system-x86_64 is not installed; install it with: apt-get install qemu-system-x86");
        }
        Path dir = spec.vmDir();
        // the longest names: a path too long for a Unix socket fails here, not in QEMU
        VmmLauncher.checkSocketPaths("SMARTVM_HOME", QemuCommandLine.qmpSocket(dir),
                QemuCommandLine.agentSocket(dir, QemuCommandLine.AGENT_PORTS - 1));
        for (int port = 0; port < QemuCommandLine.AGENT_PORTS; port++) {
            deleteIfExists(QemuCommandLine.agentSocket(dir, port)); // what a QEMU that went down left
        }
        deleteIfExists(QemuCommandLine.qmpSocket(dir));
        Optional<RestoreState> restore = spec.extension(RestoreState.class);
        Optional<TemplateClone> clone = spec.extension(TemplateClone.class);
        if (restore.isPresent()) {
            QemuSnapshots.restoreDisk(restore.get().snapshotDir(), dir);
        }
        if (clone.isPresent() && Files.exists(clone.get().templateDir().resolve(QemuSnapshots.DISK))) {
            // the template outlives its clones: each writes an overlay of its own over its disk
            makeOverlay(clone.get().templateDir().resolve(QemuSnapshots.DISK), "qcow2", QemuCommandLine.rootOverlay(dir));
        }
        spec.extension(TemplateMemory.class).ifPresent(m -> sizeMemoryFile(m.file(), spec.memoryMib()));
        prepareRootOverlay(spec);
        Process p = VmmLauncher.launch(ConsoleRing.wrap(toolsDir, QemuCommandLine.consoleLog(dir),
                QemuCommandLine.build(qemuBinary, spec, HostClock.tscKhz())), dir, dir.resolve("qemu.argv"), dir.resolve("qemu.log"));
        return new QemuProcess(p.pid(), p.info().startInstant().orElse(Instant.now()), dir, p);
    }

    /** BOOT_FAILED for a QEMU that did not start or load its state (killed by now), with the end of its log. */
    private static SmartVmException startFailure(QemuProcess vmm, Path dir, boolean loading, SmartVmException e) {
        vmm.kill();
        String output = String.join("\n", TextFiles.tail(dir.resolve("qemu.log"), 20)).strip();
        String what = loading && e.code() != ErrorCode.VM_STOPPED ? e.getMessage() : "QEMU did not start" + vmm.exitCodeText();
        return new SmartVmException(ErrorCode.BOOT_FAILED, what + (output.isEmpty() ? ": " + e.getMessage() : ": " + output), e);
    }

    /**
     * The VM's writable root disk: a qcow2 overlay over the image's (never written) disk, made
     * at the first start and kept across stop and start, so that a VM keeps its files until it
     * is removed (its directory goes, and the overlay with it). An overlay keeps the path of the
     * disk it was made over.
     */
    private void prepareRootOverlay(BootRequest spec) {
        BootImage image = spec.image();
        Path overlay = QemuCommandLine.rootOverlay(spec.vmDir());
        if (image.rootDisk() == null || image.rootReadOnly() || Files.exists(overlay)) {
            return;
        }
        makeOverlay(image.rootDisk(), "raw", overlay);
    }

    /** A qcow2 overlay at {@code overlay} over {@code backing} (of format {@code format}), made whole or not at all. */
    private void makeOverlay(Path backing, String format, Path overlay) {
        Path qemuImg = Executables.onPath("qemu-img").orElseThrow(() -> new SmartVmException(
                ErrorCode.HOST_DEPENDENCY_MISSING, "qemu-img is not installed; install it with: apt-get install qemu-utils"));
        Path part = overlay.resolveSibling(overlay.getFileName() + ".part");
        try {
            runner.run(List.of(qemuImg.toString(), "create", "-q", "-f", "qcow2", "-F", format, "-b",
                    backing.toAbsolutePath().toString(), part.toString()), null, Duration.ofSeconds(30))
                    .orThrow(ErrorCode.IO_ERROR);
            Files.move(part, overlay, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot make " + overlay + ": " + e.getMessage(), e);
        } finally {
            deleteIfExists(part); // a half-made overlay is never left
        }
    }

    /** The file a template's memory will be: as large as the memory, sparse until the guest writes. */
    private static void sizeMemoryFile(Path file, int memoryMib) {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            f.setLength((long) memoryMib << 20);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot make memory file " + file + ": " + e.getMessage(), e);
        }
    }

    /** QEMU is configured by its command line alone. */
    @Override
    public BootPlan plan(BootRequest request) {
        return new BootPlan(name(), QemuCommandLine.build(qemuBinary != null ? qemuBinary : "qemu-system-x86_64", request,
                HostClock.tscKhz()), List.of());
    }

    private static void deleteIfExists(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot remove " + p + ": " + e.getMessage(), e);
        }
    }

    @Override
    public VmmProcess attach(AttachSpec spec) {
        return new QemuProcess(spec.pid(), spec.startedAt(), spec.vmDir(), null);
    }
}

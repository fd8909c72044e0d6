package dev.smartvm.internal.qemu;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.ConsoleRing;
import dev.smartvm.internal.host.VmmLabel;
import dev.smartvm.internal.io.TextFiles;
import dev.smartvm.spi.AttachSpec;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.Capability;
import dev.smartvm.spi.VmmProcess;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Runs VMs with QEMU's microvm machine. */
public final class QemuBackend implements Backend {
    /** Unix socket paths longer than this do not fit in sockaddr_un. */
    public static final int MAX_SOCKET_PATH = 107;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final String qemuBinary;
    private final Path toolsDir;

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
        String configured = System.getenv("SMARTVM_QEMU");
        if (configured != null && !configured.isBlank()) {
            return Optional.of(configured);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, "qemu-system-x86_64");
            if (Files.isExecutable(p)) {
                return Optional.of(p.toString());
            }
        }
        return Optional.empty();
    }

    @Override
    public String name() {
        return "qemu";
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.PAUSE, Capability.USER_MODE_NETWORK);
    }

    @Override
    public VmmProcess launch(BootRequest spec) {
        if (qemuBinary == null) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING,
                    "qemu-system-x86_64 is not installed; install it with: apt-get install qemu-system-x86");
        }
        Path dir = spec.vmDir();
        for (Path socket : List.of(QemuCommandLine.qmpSocket(dir),
                QemuCommandLine.agentSocket(dir, QemuCommandLine.AGENT_PORTS - 1))) { // the longest names
            if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "socket path " + socket + " is longer than "
                        + MAX_SOCKET_PATH + " bytes; set SMARTVM_HOME to a shorter directory");
            }
        }
        List<String> argv = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            argv.add("/usr/bin/setsid"); // a Ctrl-C on the terminal must not kill the VM behind our back
        }
        argv.addAll(ConsoleRing.wrap(toolsDir, QemuCommandLine.consoleLog(dir), QemuCommandLine.build(qemuBinary, spec,
                HostClock.tscKhz())));
        Path log = dir.resolve("qemu.log");
        Process p;
        try {
            Files.writeString(dir.resolve("qemu.argv"), String.join("\n", argv) + "\n");
            p = VmmLabel.apply(new ProcessBuilder(argv), dir)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "cannot start " + qemuBinary + ": " + e.getMessage(), e);
        }
        Instant started = p.info().startInstant().orElse(Instant.now());
        QemuProcess vmm = new QemuProcess(p.pid(), started, dir, p);
        try {
            QmpClient.connect(QemuCommandLine.qmpSocket(dir), START_TIMEOUT, p::isAlive).close();
        } catch (SmartVmException e) {
            p.destroyForcibly();
            try {
                p.waitFor();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            String output = String.join("\n", TextFiles.tail(log, 20)).strip();
            throw new SmartVmException(ErrorCode.BOOT_FAILED, "QEMU did not start"
                    + (p.isAlive() ? "" : " (exit code " + p.exitValue() + ")")
                    + (output.isEmpty() ? ": " + e.getMessage() : ": " + output), e);
        }
        return vmm;
    }

    @Override
    public VmmProcess attach(AttachSpec spec) {
        return new QemuProcess(spec.pid(), spec.startedAt(), spec.vmDir(), null);
    }
}

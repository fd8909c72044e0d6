package dev.smartvm.internal.smolvm;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecResult;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * smolvm's own fork ({@code machine fork}, see {@code shared/specs/smolvm/CLI-REFERENCE.md}):
 * the source (smolvm's "golden") must run forkable and reach its fork point
 * ({@code smolvm-fork-ready} run in its guest); smolvm then freezes it and starts the fork, and
 * keeps it frozen, refusing to start or stop it, while it has forks. smolvm's JSON does not name
 * a fork's source, so each fork's VM directory does ({@value #FORK_OF}).
 */
final class SmolvmForks {
    /** In a fork's VM directory: the machine it was forked from. */
    static final String FORK_OF = "smolvm-fork-of";
    /** The guest command that marks the fork point. */
    static final String FORK_READY = "smolvm-fork-ready";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private SmolvmForks() {
    }

    /** Whether the VM of {@code vmDir} is a fork (smolvm refuses nested forks: it is never started forkable). */
    static boolean isFork(Path vmDir) {
        return Files.exists(vmDir.resolve(FORK_OF));
    }

    /**
     * Makes machine {@code child} a fork of the running (or already frozen) machine
     * {@code golden}; its VM directory records it. Nothing of the fork is left when it fails.
     *
     * @throws SmolvmException when smolvm refuses
     * @throws SmartVmException INVALID_STATE when the golden is neither running nor frozen;
     *     BOOT_FAILED when its guest cannot reach the fork point; UNSUPPORTED for a smolvm that
     *     SmartVM does not fork
     */
    static void fork(SmolvmCli c, String golden, String child, Path vmDir) {
        MachineStatus g = c.status(golden);
        if (g.running()) {
            ExecResult ready = c.exec(golden, List.of(), null, READY_TIMEOUT, List.of(FORK_READY));
            if (ready.exitCode() != 0) {
                throw new SmartVmException(ErrorCode.BOOT_FAILED, "machine '" + golden + "' did not reach its fork point: '"
                        + FORK_READY + "' exited with " + ready.exitCode() + ": " + ready.stderr().strip());
            }
        } else if (!"frozen".equals(g.state())) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "machine '" + golden + "' is " + g.state()
                    + "; only a running machine is forked");
        }
        try {
            Files.writeString(vmDir.resolve(FORK_OF), golden + "\n", StandardCharsets.UTF_8);
            c.fork(golden, child, READY_TIMEOUT);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write " + vmDir.resolve(FORK_OF) + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            try {
                Files.deleteIfExists(vmDir.resolve(FORK_OF));
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /**
     * The ids of the VMs (beside {@code vmDir}, in the same home) that are forks of machine
     * {@code golden} and whose machines still exist.
     */
    static List<String> of(Path vmDir, String golden, SmolvmCli c) {
        Path vms = vmDir.getParent();
        List<String> forks = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(vms)) {
            for (Path d : dirs.toList()) {
                Path marker = d.resolve(FORK_OF);
                if (Files.isRegularFile(marker) && Files.readString(marker).strip().equals(golden)) {
                    forks.add(d.getFileName().toString());
                }
            }
        } catch (IOException e) {
            return forks; // no home to look in: none known
        }
        if (forks.isEmpty()) {
            return forks;
        }
        Set<String> machines = c.ls().stream().map(MachineStatus::name).collect(Collectors.toSet());
        forks.removeIf(id -> !machines.contains(SmolvmBackend.machineName(id)));
        return forks;
    }
}

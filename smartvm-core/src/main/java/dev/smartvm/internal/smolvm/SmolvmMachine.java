package dev.smartvm.internal.smolvm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.HostProcess;
import dev.smartvm.internal.host.VmmPid;
import dev.smartvm.spi.AgentEndpoint;
import dev.smartvm.spi.Guest;
import dev.smartvm.spi.VmmProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One started smolvm machine: its VM process, and the way into it ({@code machine exec} and
 * {@code cp}). The process is watched as any VMM that is not our child ({@link VmmPid}: a
 * zombie is dead, a reused pid is never killed); without a pid from smolvm, its status is asked.
 */
final class SmolvmMachine implements VmmProcess {
    private final SmolvmCli cli;
    private final String name;
    private final VmmPid process;
    private final Path vmDir;

    /**
     * @param vmDir the VM's directory (its siblings are the other VMs': the forks of this one name it)
     * @param startedAt the VM process's start time, or null to read it now
     */
    SmolvmMachine(SmolvmCli cli, String name, Path vmDir, long pid, Instant startedAt) {
        this.cli = cli;
        this.name = name;
        this.vmDir = vmDir;
        this.process = new VmmPid(pid, startedAt != null || pid <= 0 ? startedAt : HostProcess.startTime(pid).orElse(null), null);
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public AgentEndpoint agentEndpoint() {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "smolvm runs its own guest agent; SmartVM's is not in its guest");
    }

    @Override
    public Guest guest(Duration timeout) {
        try {
            cli.waitExecReady(name, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for smolvm machine '" + name + "'", e);
        }
        return new SmolvmGuest(cli, name);
    }

    @Override
    public void pause() {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "smolvm cannot pause or resume a machine; stop and start it instead");
    }

    /** Refused: smolvm has no resume, and keeps a forked machine frozen. */
    @Override
    public void resume() {
        if (frozen()) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "smolvm keeps machine '" + name + "' frozen since it was forked;"
                    + " it cannot run again: remove its forks, then stop it and start it again");
        }
        pause();
    }

    /** Refused while this machine is the frozen source of forks that still exist: smolvm would refuse too. */
    @Override
    public void checkCanStop() {
        if (!frozen()) {
            return;
        }
        List<String> forks = SmolvmForks.of(vmDir, name, cli);
        if (!forks.isEmpty()) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "smolvm machine '" + name + "' is the frozen source of forks"
                    + " that still exist (VMs " + String.join(", ", forks) + "); smolvm cannot stop it before they are"
                    + " removed: remove them first");
        }
    }

    private boolean frozen() {
        try {
            return "frozen".equals(cli.status(name).state());
        } catch (SmartVmException e) {
            return false;
        }
    }

    @Override
    public boolean isAlive() {
        if (process.pid() > 0) {
            return process.isAlive();
        }
        try {
            return cli.status(name).running();
        } catch (SmartVmException e) {
            return false;
        }
    }

    @Override
    public boolean awaitExit(Duration timeout) {
        if (process.pid() > 0) {
            return process.awaitExit(timeout);
        }
        Instant deadline = Instant.now().plus(timeout);
        while (isAlive()) {
            if (!Instant.now().isBefore(deadline)) {
                return false;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !isAlive();
            }
        }
        return true;
    }

    @Override
    public void terminate(Duration grace) {
        try {
            cli.stop(name);
        } catch (SmartVmException e) {
            // not running any more, or smolvm would not: the kill below settles it
        }
        if (process.pid() > 0) {
            process.killAfter(grace);
        } else {
            awaitExit(grace);
        }
    }

    @Override
    public Optional<String> exitReason() {
        return isAlive() ? Optional.empty() : Optional.of("smolvm machine '" + name + "' stopped");
    }

    @Override
    public void close() {
        // no connection is held: every call is a smolvm command of its own
    }
}

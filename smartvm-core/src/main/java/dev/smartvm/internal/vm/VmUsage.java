package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.GuestUsage;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmState;
import dev.smartvm.VmStats;
import dev.smartvm.internal.host.ProcStats;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.spi.VmmProcess;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Samples what one VM uses ({@code MicroVm.stats}): the CPU time of its vCPU threads and the
 * memory of its VMM (procfs), its writable disk's blocks, its TAP's counters (sysfs), and what its
 * guest reports through the agent. CPU % needs two samples: the previous one of the same handle,
 * or one taken a moment before.
 */
public final class VmUsage {
    private static final Duration FIRST_INTERVAL = Duration.ofMillis(250);
    private static final Duration GUEST_TIMEOUT = Duration.ofSeconds(5);

    /** A CPU reading of one VMM process. */
    private record CpuReading(long pid, long cpuNanos, long at) {
    }

    private final AtomicReference<CpuReading> last = new AtomicReference<>();

    public VmStats sample(VmLifecycle life, CommandRunner runner) {
        VmRecord r = life.current();
        VmmProcess vmm = life.activeVmm();
        if (vmm == null || !r.state().isActive()) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "cannot take the stats of VM '" + r.name() + "': it is "
                    + r.state().name().toLowerCase() + r.stopReasonSuffix());
        }
        List<Long> vcpus = vcpuThreads(vmm);
        CpuReading before = last.get();
        CpuReading now = read(vmm, vcpus);
        if (before == null || before.pid() != now.pid() || before.cpuNanos() > now.cpuNanos()) {
            sleep(FIRST_INTERVAL);
            before = now;
            now = read(vmm, vcpus);
        }
        last.set(now);
        long interval = Math.max(1, now.at() - before.at());
        double percent = 100.0 * (now.cpuNanos() - before.cpuNanos()) / interval;
        long[] memory = ProcStats.rssAndPss(vmm.pid());
        long disk = vmm.writableDisk().map(p -> ProcStats.allocatedBytes(p, runner)).orElse(-1L);
        long[] tap = r.network() == null ? new long[] {-1, -1} : ProcStats.deviceBytes(r.network().tap());
        return new VmStats(r.id(), r.name(), Instant.now(), Duration.ofNanos(now.cpuNanos()), percent,
                Duration.ofNanos(interval), guest(life, r.state()), memory[0], memory[1], disk, tap[1], tap[0]);
    }

    private static List<Long> vcpuThreads(VmmProcess vmm) {
        try {
            return vmm.vcpuThreads();
        } catch (SmartVmException e) {
            return List.of(); // not told: the whole process is counted
        }
    }

    private static CpuReading read(VmmProcess vmm, List<Long> vcpus) {
        long cpu = ProcStats.cpuNanos(vmm.pid(), vcpus);
        if (cpu < 0) {
            throw new SmartVmException(ErrorCode.VM_STOPPED, "the VMM (pid " + vmm.pid() + ") exited");
        }
        return new CpuReading(vmm.pid(), cpu, System.nanoTime());
    }

    /** What the guest reports; null when it cannot answer (paused, an older agent, an engine without ours). */
    private static GuestUsage guest(VmLifecycle life, VmState state) {
        if (state != VmState.RUNNING) {
            return null;
        }
        try {
            return life.requireAgent("take stats").usage(GUEST_TIMEOUT).orElse(null);
        } catch (SmartVmException e) {
            if (e.code() == ErrorCode.INTERRUPTED) {
                throw e;
            }
            return null;
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while taking a VM's stats", e);
        }
    }
}

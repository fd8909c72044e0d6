package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.agent.AgentClient;
import dev.smartvm.internal.agent.AgentConnection;
import dev.smartvm.internal.io.FileClaim;
import dev.smartvm.spi.AgentEndpoint;
import dev.smartvm.spi.Guest;
import dev.smartvm.spi.VmmProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * Reaches the guest of a VMM: through the engine's own way in when it has one, else through
 * SmartVM's agent, so that a broken connection says why the VM went away.
 */
public final class GuestLink {
    private GuestLink() {
    }

    /** The guest's hostname for a VM name: the name, with '_' (which hostnames lack) as '-'. */
    static String hostname(String vmName) {
        return vmName.replace('_', '-');
    }

    public static Guest connect(VmmProcess process, Duration timeout, String vmName) {
        Guest own = process.guest(timeout);
        if (own != null) {
            return own;
        }
        AgentEndpoint endpoint = process.agentEndpoint();
        Function<String, SmartVmException> breakage = reason -> {
            process.awaitExit(Duration.ofMillis(500));
            return process.exitReason()
                    .map(r -> new SmartVmException(ErrorCode.VM_STOPPED, "VM '" + vmName + "' stopped: " + r))
                    .orElseGet(() -> new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                            "lost the guest agent of VM '" + vmName + "': " + reason));
        };
        String thread = "smartvm-agent-" + vmName;
        if (endpoint.hybridVsockPort() > 0 || endpoint.sockets().size() == 1) { // every connection is a stream of its own
            return synced(new AgentClient(AgentConnection.open(endpoint.socket(), endpoint.hybridVsockPort(), timeout,
                    thread, breakage)));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (Path socket : endpoint.sockets()) {
                Optional<FileClaim> claim = Files.exists(socket) ? FileClaim.tryClaim(Path.of(socket + ".claim"))
                        : Optional.empty();
                if (claim.isPresent()) {
                    Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
                    return synced(new AgentClient(AgentConnection.open(socket, 0, left, thread, breakage,
                            claim.get()::close)));
                }
            }
            if (System.nanoTime() >= deadline) {
                throw new SmartVmException(ErrorCode.TIMEOUT, "every agent port of VM '" + vmName + "' ("
                        + endpoint.sockets().size() + ") stayed in use by other processes for " + timeout.toMillis()
                        + " ms; at most that many processes can use one VM at once (each process shares its own port"
                        + " among all its threads)");
            }
            if (!process.isAlive()) {
                throw breakage.apply("the VMM exited");
            }
            try {
                Thread.sleep(Math.max(1, Math.min(50, (deadline - System.nanoTime()) / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for an agent port", e);
            }
        }
    }

    /**
     * A new session starts with the host's clock and entropy (see {@link AgentClient#sync}),
     * not waited for: the agent handles a session's frames in order, so the first request
     * already finds them, and a clone's start spares a round trip.
     */
    private static Guest synced(AgentClient client) {
        client.syncWithoutWaiting();
        return new AgentGuest(client);
    }
}

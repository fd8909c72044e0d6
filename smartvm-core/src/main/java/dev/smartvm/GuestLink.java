package dev.smartvm;

import dev.smartvm.agent.AgentClient;
import dev.smartvm.agent.AgentConnection;
import dev.smartvm.backend.AgentEndpoint;
import dev.smartvm.backend.Guest;
import dev.smartvm.backend.VmmProcess;
import java.time.Duration;

/**
 * Reaches the guest of a VMM: through the engine's own way in when it has one, else through
 * SmartVM's agent, so that a broken connection says why the VM went away.
 */
final class GuestLink {
    private GuestLink() {
    }

    static Guest connect(VmmProcess process, Duration timeout, String vmName) {
        Guest own = process.guest(timeout);
        if (own != null) {
            return own;
        }
        AgentEndpoint endpoint = process.agentEndpoint();
        AgentConnection c = AgentConnection.open(endpoint.socket(), endpoint.hybridVsockPort(), timeout, "smartvm-agent-" + vmName,
                reason -> {
                    process.awaitExit(Duration.ofMillis(500));
                    return process.exitReason()
                            .map(r -> new SmartVmException(ErrorCode.VM_STOPPED, "VM '" + vmName + "' stopped: " + r))
                            .orElseGet(() -> new SmartVmException(ErrorCode.AGENT_PROTOCOL,
                                    "lost the guest agent of VM '" + vmName + "': " + reason));
                });
        return new AgentGuest(new AgentClient(c));
    }
}

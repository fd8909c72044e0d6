package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecProcess;
import dev.smartvm.ExecRequest;
import dev.smartvm.ExecResult;
import dev.smartvm.GuestUsage;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.agent.AgentClient;
import dev.smartvm.internal.agent.OutputSink;
import dev.smartvm.spi.Guest;
import dev.smartvm.spi.NicSpec;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The guest through SmartVM's own agent (QEMU and Firecracker). */
public final class AgentGuest implements Guest {
    private final AgentClient client;

    public AgentGuest(AgentClient client) {
        this.client = client;
    }

    @Override
    public ExecResult run(ExecRequest request) {
        return client.run(request);
    }

    @Override
    public ExecProcess start(ExecRequest request, boolean withStdin, OutputStream stdout, OutputStream stderr) {
        return client.start(request, withStdin, stdout == null ? null : OutputSink.forwardingTo(stdout),
                stderr == null ? null : OutputSink.forwardingTo(stderr));
    }

    @Override
    public long upload(Path source, String guestPath, Duration timeout) {
        return client.upload(source, guestPath, timeout);
    }

    @Override
    public dev.smartvm.GuestFiles files() {
        return new dev.smartvm.internal.agent.AgentFiles(client);
    }

    @Override
    public long download(String guestPath, Path target, Duration timeout) {
        return client.download(guestPath, target, timeout);
    }

    @Override
    public Duration ping(Duration timeout) {
        return client.ping(timeout);
    }

    @Override
    public Optional<GuestUsage> usage(Duration timeout) {
        return client.usage(timeout);
    }

    @Override
    public void identify(String vmId, String hostname, NicSpec nic) {
        String ip = nic == null ? null : nic.ipConfig();
        client.identify(vmId, hostname, ip == null ? null : nic.mac(), ip);
    }

    @Override
    public void syncClock() {
        client.syncWithoutWaiting();
    }

    @Override
    public void shutdown() {
        client.shutdown();
    }

    @Override
    public boolean isOpen() {
        return client.connection().isOpen();
    }

    @Override
    public void close(RuntimeException reason) {
        if (reason == null) {
            client.close();
        } else {
            client.close(reason instanceof SmartVmException s ? s : new SmartVmException(ErrorCode.VM_STOPPED, reason.getMessage(), reason));
        }
    }
}

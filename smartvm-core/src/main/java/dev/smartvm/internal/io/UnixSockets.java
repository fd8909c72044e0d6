package dev.smartvm.internal.io;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/** Connecting to a Unix socket that a starting process has not created yet. */
public final class UnixSockets {
    private UnixSockets() {
    }

    /**
     * Retries every 5 ms until connected, the deadline ({@link System#nanoTime()}) passes, or
     * {@code keepTrying} says the peer is gone; then throws the last connection error.
     */
    public static SocketChannel connect(Path socket, long deadlineNanos, BooleanSupplier keepTrying) throws IOException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
        IOException last = null;
        while (System.nanoTime() < deadlineNanos && keepTrying.getAsBoolean()) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(address);
                return ch;
            } catch (IOException e) {
                last = e;
                ch.close();
            }
            try {
                Thread.sleep(1); // a VMM's sockets appear within tens of milliseconds: each one counts for a clone
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while connecting to " + socket, e);
            }
        }
        if (last != null) {
            throw last;
        }
        throw new IOException("gave up connecting to " + socket);
    }
}

package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;

/** Credit the guest granted us for one stream: how many more data bytes we may send. */
final class SendWindow {
    private long available;
    private SmartVmException failure;

    SendWindow(long initial) {
        this.available = initial;
    }

    /** Waits for credit, then takes up to {@code wanted} bytes of it. */
    synchronized int take(int wanted) {
        while (available == 0 && failure == null) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting to send to the guest", e);
            }
        }
        if (failure != null) {
            throw failure;
        }
        int n = (int) Math.min(wanted, available);
        available -= n;
        return n;
    }

    synchronized void grant(long n) {
        available += n;
        notifyAll();
    }

    synchronized void fail(SmartVmException cause) {
        if (failure == null) {
            failure = cause;
        }
        notifyAll();
    }
}

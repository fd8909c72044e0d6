package dev.smartvm.internal.agent;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waiting for an answer from the guest, with the failures every caller reports the same way. */
final class Await {
    private Await() {
    }

    /**
     * The future's value. A guest-side failure is rethrown with its code (wrapped, so the
     * caller's stack shows); running out of time is TIMEOUT, an interrupt INTERRUPTED.
     */
    static <T> T result(CompletableFuture<T> future, Duration timeout, String what) {
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for " + what, e);
        } catch (TimeoutException e) {
            throw new SmartVmException(ErrorCode.TIMEOUT, what + " did not finish within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SmartVmException s) {
                throw new SmartVmException(s.code(), s.getMessage(), s);
            }
            throw new SmartVmException(ErrorCode.AGENT_ERROR, what + " failed: " + e.getCause(), e.getCause());
        }
    }
}

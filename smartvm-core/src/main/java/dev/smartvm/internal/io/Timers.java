package dev.smartvm.internal.io;

import java.util.concurrent.ScheduledThreadPoolExecutor;

/** Timers for deadlines and watchdogs. */
public final class Timers {
    private Timers() {
    }

    /**
     * One daemon thread running scheduled tasks, from which a cancelled task is removed at once.
     * Without that, a task cancelled early (a deadline an hour away, met in a millisecond) stays
     * queued, with all it refers to, until its time comes: a leak as long as the longest deadline.
     */
    public static ScheduledThreadPoolExecutor daemon(String threadName) {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }
}

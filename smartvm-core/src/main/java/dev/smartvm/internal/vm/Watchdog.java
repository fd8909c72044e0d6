package dev.smartvm.internal.vm;

import dev.smartvm.AdmissionPolicy;
import dev.smartvm.DownloadListener;
import dev.smartvm.ErrorCode;
import dev.smartvm.GuestUsage;
import dev.smartvm.NameResolver;
import dev.smartvm.SmartVmException;
import dev.smartvm.TimeLimits;
import dev.smartvm.VmState;
import dev.smartvm.internal.host.JavaCommand;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.LockFile;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Enforces the time limits of a home's VMs ({@link TimeLimits}): removes or stops a VM whose
 * lifetime ended, stops or pauses one that was idle too long. One process per home, started by
 * whoever starts a VM with a limit ({@link #ensure}) and gone once no running VM has one, so the
 * limits hold after the program that made the VM has exited, or was killed.
 *
 * <p>One per home rather than one per VM: a JVM costs 50 to 70 MB resident, and fifty sandboxes
 * with a TTL are then one process, not fifty; and stopping or removing a VM is the whole of SmartVM
 * (network, nft rules, record), which a smaller helper would have to do again. The lock file
 * {@code watchdog.lock} makes it one: a second one started at the same time finds it held and exits.
 *
 * <p>Every second it reads the records; for a running VM with an idle timeout it asks the guest
 * agent how long no request was active (the guest knows of every host's requests; asking is
 * not activity). It keeps one agent connection to each such VM.
 */
public final class Watchdog {
    static final String LOCK = "watchdog.lock";
    static final String LOG = "watchdog.log";
    private static final Duration PERIOD = Duration.ofSeconds(1);
    /** How long it stays without work before it exits (a VM with limits may be on its way). */
    private static final Duration LINGER = Duration.ofSeconds(10);
    private static final Duration USAGE_TIMEOUT = Duration.ofSeconds(5);

    private final VmContext context;
    private final Map<String, VmLifecycle> watched = new HashMap<>();

    private Watchdog(VmContext context) {
        this.context = context;
    }

    /** Starts the watchdog of {@code home} unless one runs there. */
    public static void ensure(Path home) {
        if (!LockFile.isFree(home.resolve(LOCK))) {
            return;
        }
        List<String> argv = new java.util.ArrayList<>(List.of("setsid"));
        argv.addAll(JavaCommand.of(Watchdog.class, List.of(home.toString())));
        try {
            new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve(LOG).toFile())).start();
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot start the watchdog that enforces VMs' time limits: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Whether any VM of the home has a limit that may still fire, or is starting with one (its
     * start found this watchdog's lock held and started none).
     */
    static boolean anyLimited(VmContext context) {
        return context.store().all().stream().anyMatch(r -> limited(context, r).isPresent()
                || r.state() == VmState.STARTING && r.spec().timeLimits().any());
    }

    /** A VM with a limit that may fire, and the end of its lifetime (empty: none), as read once in a round. */
    private record Limited(VmRecord record, Optional<Instant> expires) {
    }

    /**
     * The VM, if it has a lifetime that runs (running or paused) or is running with an idle timeout
     * (a paused one is resumed by a call, which starts a watchdog); not while it starts or stops.
     */
    private static Optional<Limited> limited(VmContext context, VmRecord r) {
        if (r.state() != VmState.RUNNING && r.state() != VmState.PAUSED) {
            return Optional.empty();
        }
        Optional<Instant> expires = Expiry.read(context.store().dir(r.id()));
        boolean idleWatched = r.state() == VmState.RUNNING && r.spec().timeLimits().idleTimeout() != null;
        return expires.isPresent() || idleWatched ? Optional.of(new Limited(r, expires)) : Optional.empty();
    }

    public static void main(String[] args) throws InterruptedException {
        Path home = Path.of(args[0]).toAbsolutePath();
        Optional<LockFile> lock = LockFile.tryAcquire(home.resolve(LOCK));
        if (lock.isEmpty()) {
            return; // another one watches
        }
        VmContext context = Homes.open(new Homes.Settings(home, null, CommandRunner.system(), Watchdog::log, DownloadListener.NONE,
                NameResolver.system(), AdmissionPolicy.fromEnvironment(), List.of(), false), id -> { });
        log("watching " + home + " (pid " + ProcessHandle.current().pid() + ")");
        Watchdog dog = new Watchdog(context);
        LockFile held = lock.get();
        Instant idleSince = Instant.now();
        while (true) {
            if (!java.nio.file.Files.isDirectory(context.store().root())) {
                log("the home is gone; exiting");
                return;
            }
            boolean work;
            try {
                work = dog.round();
            } catch (RuntimeException e) {
                log("a round failed: " + e); // the next one tries again
                work = true;
            }
            if (work) {
                idleSince = Instant.now();
            } else if (Duration.between(idleSince, Instant.now()).compareTo(LINGER) >= 0) {
                held.close();
                // a VM with limits started while the lock was held saw no need to start one: look once more, unlocked
                if (!anyLimited(context) || (held = LockFile.tryAcquire(home.resolve(LOCK)).orElse(null)) == null) {
                    dog.watched.values().forEach(VmLifecycle::close);
                    log("no VM with a time limit left; exiting");
                    return;
                }
                idleSince = Instant.now();
            }
            Thread.sleep(PERIOD);
        }
    }

    /** One look at every VM; whether any has a limit still to enforce. */
    private boolean round() {
        boolean work = false;
        Map<String, Limited> active = new HashMap<>();
        for (VmRecord r : context.store().all()) {
            limited(context, r).ifPresent(l -> active.put(r.id(), l));
        }
        watched.keySet().removeIf(id -> {
            if (active.containsKey(id)) {
                return false;
            }
            watched.get(id).close(); // gone, stopped, or its limits lifted: its connection goes
            return true;
        });
        for (Limited l : active.values()) {
            VmRecord r = l.record();
            work = true;
            try {
                enforce(r, l.expires());
            } catch (SmartVmException e) {
                log("VM " + r.name() + ": " + e.getMessage());
                VmLifecycle stale = watched.remove(r.id());
                if (stale != null) {
                    stale.close();
                }
            }
        }
        return work;
    }

    private void enforce(VmRecord r, Optional<Instant> expires) {
        TimeLimits limits = r.spec().timeLimits();
        Path dir = context.store().dir(r.id());
        if (expires.isPresent() && !Instant.now().isBefore(expires.get())) {
            VmLifecycle life = handle(r);
            watched.remove(r.id());
            if (limits.onTtl() == TimeLimits.OnTtl.STOP) {
                log("VM " + r.name() + ": its TTL ended at " + expires.get() + "; stopping it");
                Expiry.write(dir, null);
                life.stop(true);
            } else {
                log("VM " + r.name() + ": its TTL ended at " + expires.get() + "; removing it");
                life.remove();
            }
            life.close();
            return;
        }
        if (limits.idleTimeout() == null || r.state() != VmState.RUNNING) {
            return;
        }
        Optional<FileTime> called = Expiry.lastCall(dir);
        if (called.isPresent() && called.get().toInstant().isAfter(Instant.now().minus(limits.idleTimeout()))) {
            return; // a call began lately: its request may not have reached the agent yet
        }
        VmLifecycle life = handle(r);
        Optional<GuestUsage> usage = life.requireAgent("check whether it is idle").usage(USAGE_TIMEOUT);
        if (usage.isEmpty()) {
            return; // an agent older than idle timeouts (its template's): it cannot tell
        }
        if (usage.get().idle().compareTo(limits.idleTimeout()) < 0) {
            return;
        }
        String idle = "idle for " + usage.get().idle().toMillis() / 1000 + " s (its idle timeout: " + limits.idleTimeout().toSeconds() + " s)";
        if (limits.onIdle() == TimeLimits.OnIdle.PAUSE) {
            log("VM " + r.name() + ": " + idle + "; pausing it");
            Expiry.markIdlePaused(dir, true); // first: a call that begins from now on sees it and wakes the VM
            life.suspend(true);
            if (!Expiry.lastCall(dir).equals(called)) { // a call began before it could see the mark: it is on its way
                log("VM " + r.name() + ": a call came as it was paused; resuming it");
                life.suspend(false);
            }
        } else {
            log("VM " + r.name() + ": " + idle + "; stopping it");
            watched.remove(r.id());
            life.stop(true);
            life.close();
        }
    }

    private VmLifecycle handle(VmRecord r) {
        return watched.computeIfAbsent(r.id(), id -> new VmLifecycle(context, r, false));
    }

    private static void log(String line) {
        System.out.println(Instant.now() + " " + line);
        System.out.flush();
    }
}

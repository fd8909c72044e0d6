package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.Leftover;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.VmmLabel;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Json;
import dev.smartvm.internal.io.LockFile;
import dev.smartvm.internal.io.Sweep;
import dev.smartvm.internal.smolvm.SmolvmBackend;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.EngineLeftover;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code smartvm gc}: everything no live owner holds, found and (unless a dry run) removed, in
 * an order where each step leaves the next less to do: the home's orphan VMs (with their VMMs
 * and networks), VMMs whose VM directory is gone, VM directories without a record, sockets of VMs whose VMM is gone, half-made
 * snapshots, templates and smolvm packs, locks of images no longer cached, then the host's network (leases,
 * ports, rules, TAPs and bridge of VMs of any home that are not running).
 */
public final class GarbageCollector {
    private static final int SOCKET_TYPE = 0140000;

    private GarbageCollector() {
    }

    public static List<Leftover> collect(VmContext context, boolean dryRun, Consumer<String> notices) {
        Sweep sweep = new Sweep(dryRun);
        Set<String> vms = Reaper.sweepVms(context, sweep, notices);
        sweepVmms(sweep);
        sweepDirectories(context, sweep);
        sweepSockets(context, sweep, vms);
        context.snapshots().sweepPartials(sweep);
        context.templates().sweepPartials(sweep);
        SmolvmBackend.sweepPartialPacks(context.store().root().getParent(), sweep);
        context.images().sweepLocks(sweep);
        context.network().sweep(sweep, GarbageCollector::runsIn, dryRun ? vms : Set.of());
        sweepEngines(context, sweep, notices);
        return sweep.leftovers();
    }

    /** What the engines keep outside the home (Kubernetes objects whose owner died); an engine that cannot tell is warned of. */
    private static void sweepEngines(VmContext context, Sweep sweep, Consumer<String> notices) {
        for (Backend backend : context.backends().values()) {
            try {
                for (EngineLeftover l : backend.leftovers()) {
                    sweep.found(Leftover.Kind.ENGINE_OBJECT, l.name(), l.reason(), l.remove());
                }
            } catch (SmartVmException e) {
                notices.accept("warning: the " + backend.name() + " backend cannot list what it left: " + e.getMessage());
            }
        }
    }

    /** Whether {@code dir} is the directory of a VM that runs (see {@link Reaper#runs}). */
    static boolean runsIn(Path dir) {
        Path file = dir.resolve("vm.json");
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try {
            return Reaper.runs(Json.read(file, VmRecord.class), dir);
        } catch (SmartVmException e) {
            return false; // unreadable: nothing can run from it
        }
    }

    /** VMMs (of any home) whose VM directory is gone: nothing else could ever find them. */
    private static void sweepVmms(Sweep sweep) {
        for (Path dir : VmmLabel.labelledDirs()) {
            if (!Files.exists(dir)) {
                sweep.found(Leftover.Kind.VMM, dir.toString(), "the VMM of a VM whose directory is gone (pid "
                        + VmmLabel.find(dir).stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")) + ")",
                        () -> VmmLabel.killAll(dir));
            }
        }
    }

    /**
     * Directories of the home's VMs without a readable record: made by a creation, or left by a
     * removal, that was cut short. Removed under the names lock (a creation makes the directory
     * and its record under it) with whatever VMM carries its label.
     */
    private static void sweepDirectories(VmContext context, Sweep sweep) {
        VmStore store = context.store();
        for (Path dir : children(store.root())) {
            String id = dir.getFileName().toString();
            if (Files.isDirectory(dir) && !id.startsWith(".") && store.load(id).isEmpty()) {
                sweep.found(Leftover.Kind.VM_DIRECTORY, dir.toString(), "a VM directory without a record (a creation or"
                        + " removal cut short)", () -> store.underNamesLock(() -> {
                            if (store.load(id).isEmpty()) {
                                VmmLabel.killAll(dir);
                                store.delete(id);
                            }
                        }));
            }
        }
    }

    /**
     * Socket files in the directories of VMs that do not run (their VMM died without removing
     * them), other than those {@code removed} with their VM. Deleted holding the VM's start
     * lock, so that no start makes new ones meanwhile.
     */
    private static void sweepSockets(VmContext context, Sweep sweep, Set<String> removed) {
        for (VmRecord r : context.store().all()) {
            Path dir = context.store().dir(r.id());
            if (removed.contains(r.id()) || Reaper.runs(r, dir)) {
                continue;
            }
            for (Path socket : sockets(dir)) {
                sweep.found(Leftover.Kind.SOCKET, socket.toString(), "VM " + r.name() + " is not running", () -> {
                    Optional<LockFile> lock = LockFile.tryAcquire(VmStart.startLock(dir));
                    if (lock.isEmpty()) {
                        throw new SmartVmException(ErrorCode.INVALID_STATE, "VM " + r.name() + " is being started");
                    }
                    try (LockFile held = lock.get()) {
                        if (context.store().load(r.id()).map(now -> !Reaper.runs(now, dir)).orElse(true)) {
                            Files.deleteIfExists(socket);
                        }
                    } catch (IOException e) {
                        throw new SmartVmException(ErrorCode.IO_ERROR, "cannot delete " + socket + ": " + e.getMessage(), e);
                    }
                });
            }
        }
    }

    /** The socket files in a VM's directory and its subdirectories (a jail's root). */
    private static List<Path> sockets(Path dir) {
        try (Stream<Path> walk = Files.walk(dir, 3)) {
            return walk.filter(p -> {
                try {
                    return ((Integer) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS)
                            & 0170000) == SOCKET_TYPE;
                } catch (IOException | UnsupportedOperationException e) {
                    return false;
                }
            }).sorted().toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of();
        }
    }

    private static List<Path> children(Path dir) {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            entries.forEach(out::add);
        } catch (IOException e) {
            // no VMs yet
        }
        return out;
    }
}

package dev.smartvm.internal.io;

import dev.smartvm.Leftover;
import dev.smartvm.SmartVmException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One garbage collection: what each part of SmartVM finds no live owner holding, removed as it
 * is found unless this is a dry run. A removal that fails is recorded with why, and the
 * collection goes on.
 */
public final class Sweep {
    private final boolean dryRun;
    private final List<Leftover> found = new ArrayList<>();

    public Sweep(boolean dryRun) {
        this.dryRun = dryRun;
    }

    public boolean dryRun() {
        return dryRun;
    }

    /** Records a leftover and, unless this is a dry run, runs {@code remove}. */
    public void found(Leftover.Kind kind, String name, String reason, Runnable remove) {
        Leftover leftover = new Leftover(kind, name, reason, null);
        if (!dryRun) {
            try {
                remove.run();
            } catch (SmartVmException | UncheckedIOException e) {
                leftover = leftover.failed(e.getMessage());
            }
        }
        found.add(leftover);
    }

    /** What was found, in the order it was. */
    public List<Leftover> leftovers() {
        return List.copyOf(found);
    }
}

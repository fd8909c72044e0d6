package dev.smartvm.internal.vm;

import dev.smartvm.SmartVmException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * A boot as named steps, each of which registers how to undo what it did. When a step fails,
 * the steps before it are undone newest first (every undo runs, whatever the others do) and the
 * failure names the step; once the boot is {@link #commit committed} nothing is undone.
 * Not thread-safe: one boot, one thread.
 */
final class Boot implements AutoCloseable {
    private final Deque<Undo> undos = new ArrayDeque<>();
    private final Deque<String> done = new ArrayDeque<>();
    private boolean committed;

    private record Undo(String step, Runnable action) {
    }

    /** A step that failed: its name, and the steps done (and now undone) before it. */
    static final class StepFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String step;
        private final transient SmartVmException cause;

        StepFailed(String step, SmartVmException cause) {
            super("step '" + step + "' failed: " + cause.getMessage(), cause, false, false);
            this.step = step;
            this.cause = cause;
        }

        String step() {
            return step;
        }

        SmartVmException failure() {
            return cause;
        }
    }

    /** Runs step {@code name}; a SmartVmException it throws undoes the steps before it and ends the boot. */
    <T> T step(String name, Supplier<T> action) {
        T result;
        try {
            result = action.get();
        } catch (SmartVmException e) {
            undo();
            throw new StepFailed(name, e);
        } catch (RuntimeException | Error e) {
            undo();
            throw e;
        }
        done.push(name);
        return result;
    }

    void step(String name, Runnable action) {
        step(name, () -> {
            action.run();
            return null;
        });
    }

    /** How to undo what step {@code name} (running or done) did. */
    void onUndo(String name, Runnable undo) {
        undos.push(new Undo(name, undo));
    }

    /** The steps done so far, first first. */
    java.util.List<String> done() {
        return java.util.List.copyOf(done).reversed();
    }

    /** The boot succeeded: nothing is undone any more. */
    void commit() {
        committed = true;
        undos.clear();
    }

    /** Undoes every step done so far, newest first. */
    private void undo() {
        RuntimeException first = null;
        while (!undos.isEmpty()) {
            Undo u = undos.pop();
            try {
                u.action().run();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            System.getLogger(Boot.class.getName()).log(System.Logger.Level.WARNING, "undoing a failed boot: " + first, first);
        }
    }

    /** A boot left without commit (an exception nobody expected) is undone. Idempotent. */
    @Override
    public void close() {
        if (!committed) {
            committed = true;
            undo();
        }
    }
}

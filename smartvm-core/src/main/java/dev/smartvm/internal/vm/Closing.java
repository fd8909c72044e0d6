package dev.smartvm.internal.vm;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/** Closing many VMs at once, where one may close only after others (a smolvm fork's source, after its forks). */
public final class Closing {
    private Closing() {
    }

    /**
     * Closes each of {@code all}; those that fail are tried once more after the others, and a
     * second failure is told to {@code warnings}. Never throws.
     */
    public static <T extends AutoCloseable> void closeAll(Collection<T> all, Consumer<String> warnings) {
        List<T> again = new ArrayList<>();
        for (T c : List.copyOf(all)) {
            if (!close(c, null)) {
                again.add(c);
            }
        }
        for (T c : again) {
            close(c, warnings);
        }
    }

    private static boolean close(AutoCloseable c, Consumer<String> warnings) {
        try {
            c.close();
            return true;
        } catch (Exception e) {
            if (warnings != null) {
                warnings.accept("warning: cleaning up " + c + " failed: " + e.getMessage());
            }
            return false;
        }
    }
}

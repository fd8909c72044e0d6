package dev.smartvm.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.Acceleration;
import dev.smartvm.VmSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.BiConsumer;

/** What {@code snapshot ls} and {@code template ls} print of a saved VM: a JSON object, or a table row. */
final class SavedListing {
    private static final String ROW = "%-28s %-24s %5s %7s %9s  %s%n";

    private SavedListing() {
    }

    /** One saved VM's object, added to {@code into}: the fields both kinds have. */
    static ObjectNode json(ArrayNode into, String name, String backend, String engineVersion, Acceleration acceleration,
            VmSpec spec, Instant createdAt, long sizeBytes, Path directory) {
        return into.addObject().put("name", name).put("backend", backend).put("engineVersion", engineVersion)
                .put("acceleration", acceleration.name().toLowerCase()).put("image", spec.image()).put("cpus", spec.cpus())
                .put("memoryMib", spec.memoryMib()).put("createdAt", createdAt.toString()).put("sizeBytes", sizeBytes)
                .put("directory", directory.toString());
    }

    /**
     * Prints {@code all}: one JSON array of {@code toJson}'s objects, or a table whose second
     * column is {@code second}, a row each by {@code toRow}.
     */
    static <T> void print(PrintWriter out, boolean json, List<T> all, BiConsumer<ArrayNode, T> toJson, String second,
            BiConsumer<PrintWriter, T> toRow) {
        if (json) {
            ArrayNode arr = CliJson.array();
            all.forEach(item -> toJson.accept(arr, item));
            out.println(CliJson.text(arr));
        } else {
            out.printf(ROW, "NAME", second, "CPUS", "MEM", "SIZE", "CREATED");
            all.forEach(item -> toRow.accept(out, item));
        }
        out.flush();
    }

    static void row(PrintWriter out, String name, String second, VmSpec spec, long sizeBytes, Instant createdAt) {
        out.printf(ROW, name, second, spec.cpus(), spec.memoryMib() + "M", ProgressBar.bytes(sizeBytes),
                createdAt.toString().substring(0, 19));
    }
}

package dev.smartvm.internal.smolvm;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A smolvm release, from {@code smolvm --version} ({@code smolvm X.Y.Z}). */
public record SmolvmVersion(int major, int minor, int patch) implements Comparable<SmolvmVersion> {
    /** The release from which every machine subcommand takes {@code --name} (positional names are an error). */
    public static final SmolvmVersion NAMED_FLAGS = new SmolvmVersion(1, 0, 2);
    /**
     * The release whose {@code machine fork} SmartVM drives ({@code start --forkable},
     * {@code fork --golden --name}), as read in its source; older ones are not forked.
     */
    public static final SmolvmVersion FORKS = new SmolvmVersion(1, 9, 3);
    private static final Pattern OUTPUT = Pattern.compile("^smolvm (\\d+)\\.(\\d+)\\.(\\d+)(?:[-+][0-9A-Za-z.+-]*)?\\s*$");

    /** The version in {@code smolvm --version}'s output, or null when it is not smolvm's. */
    public static SmolvmVersion parse(String output) {
        Matcher m = OUTPUT.matcher(output.strip());
        return m.matches() ? new SmolvmVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3))) : null;
    }

    public boolean atLeast(SmolvmVersion other) {
        return compareTo(other) >= 0;
    }

    @Override
    public int compareTo(SmolvmVersion o) {
        int c = Integer.compare(major, o.major);
        c = c != 0 ? c : Integer.compare(minor, o.minor);
        return c != 0 ? c : Integer.compare(patch, o.patch);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}

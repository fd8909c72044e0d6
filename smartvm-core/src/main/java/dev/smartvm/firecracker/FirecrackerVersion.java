package dev.smartvm.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A Firecracker release such as {@code 1.16.1}, or a development build such as {@code 1.17.0-dev}. */
public record FirecrackerVersion(int major, int minor, int patch, boolean dev) implements Comparable<FirecrackerVersion> {
    private static final Pattern FORMAT = Pattern.compile("v?(\\d+)\\.(\\d+)\\.(\\d+)(-[0-9A-Za-z.-]+)?");

    /** Parses {@code 1.16.1}, {@code v1.16.1} or {@code 1.17.0-dev} (what GET /version answers). */
    public static FirecrackerVersion parse(String text) {
        Matcher m = FORMAT.matcher(text.strip());
        if (!m.matches()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT,
                    "a Firecracker version looks like 1.16.1; found '" + text + "'");
        }
        return new FirecrackerVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), m.group(4) != null);
    }

    /** A development build comes before the release of the same number. */
    @Override
    public int compareTo(FirecrackerVersion o) {
        int c = Integer.compare(major, o.major);
        c = c != 0 ? c : Integer.compare(minor, o.minor);
        c = c != 0 ? c : Integer.compare(patch, o.patch);
        return c != 0 ? c : Boolean.compare(!dev, !o.dev);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch + (dev ? "-dev" : "");
    }
}

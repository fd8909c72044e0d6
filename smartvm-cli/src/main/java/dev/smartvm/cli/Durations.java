package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Parses {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d}; a bare number means seconds. */
final class Durations implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern FORMAT = Pattern.compile("(\\d+)(ms|s|m|h|d)?");

    @Override
    public Duration convert(String value) {
        return parse(value);
    }

    static Duration parse(String value) {
        Matcher m = FORMAT.matcher(value.strip());
        if (!m.matches()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT,
                    "a duration is a number with ms, s, m, h or d (e.g. 30s); found '" + value + "'");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        Duration d = switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.isZero()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a duration must be positive; found '" + value + "'");
        }
        return d;
    }
}

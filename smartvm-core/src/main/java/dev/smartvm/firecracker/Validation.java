package dev.smartvm.firecracker;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Collects every problem of a configuration, each message naming its field. */
final class Validation {
    /** Firecracker accepts only letters, digits and '_' in drive and interface ids. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_]+");
    private final List<String> errors = new ArrayList<>();

    void check(boolean ok, String message) {
        if (!ok) {
            errors.add(message);
        }
    }

    void id(String field, String value) {
        check(value != null && ID.matcher(value).matches(),
                field + " may contain only letters, digits and '_'; found '" + value + "'");
    }

    ValidationResult result() {
        return new ValidationResult(errors.isEmpty(), errors);
    }
}

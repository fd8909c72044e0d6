package dev.smartvm.internal.smolvm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.util.regex.Pattern;

/** smolvm's rule for machine names, checked before any call: smolvm would refuse the rest. */
final class MachineName {
    static final int MAX = 128;
    private static final Pattern FORM = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");

    private MachineName() {
    }

    static String check(String name) {
        String why = name == null || name.isEmpty() ? "it is empty"
                : name.length() > MAX ? "it is longer than " + MAX + " characters"
                : !FORM.matcher(name).matches() ? "use letters, digits, '_' and '-', starting with a letter or digit"
                : name.endsWith("-") ? "it ends with '-'"
                : name.contains("--") ? "it has '--'"
                : null;
        if (why != null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "'" + name + "' is not a smolvm machine name: " + why);
        }
        return name;
    }
}

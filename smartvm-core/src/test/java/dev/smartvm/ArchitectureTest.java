package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package rules of docs/architecture.md, checked on the sources: each package uses only
 * the packages below it, and only the facade (SmartVm, MicroVm) reaches into implementations.
 */
class ArchitectureTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/smartvm");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?(dev\\.smartvm(?:\\.[a-z]+)*)\\.([A-Z]\\w*)", Pattern.MULTILINE);
    private static final Pattern QUALIFIED = Pattern.compile("\\b(dev\\.smartvm(?:\\.[a-z]+)*)\\.([A-Z]\\w*)");

    /** Which packages each package may use (besides itself and the API's value types). */
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "dev.smartvm.internal", Set.of(),
            "dev.smartvm.config", Set.of(),
            "dev.smartvm.agent", Set.of("dev.smartvm.internal"),
            "dev.smartvm.image", Set.of("dev.smartvm.internal"),
            "dev.smartvm.net", Set.of("dev.smartvm.internal"),
            "dev.smartvm.backend", Set.of("dev.smartvm.image", "dev.smartvm.net", "dev.smartvm.internal"),
            "dev.smartvm.backend.qemu", Set.of("dev.smartvm.backend", "dev.smartvm.image", "dev.smartvm.net",
                    "dev.smartvm.internal"),
            "dev.smartvm.backend.smolvm", Set.of("dev.smartvm.backend", "dev.smartvm.image", "dev.smartvm.net",
                    "dev.smartvm.internal"),
            "dev.smartvm.backend.firecracker", Set.of("dev.smartvm.backend", "dev.smartvm.config", "dev.smartvm.image",
                    "dev.smartvm.internal"));

    /** The API types implementation packages may use: values, the exception, the process handle. */
    private static final Set<String> API_VALUES = Set.of("ErrorCode", "SmartVmException", "Acceleration", "ExecRequest",
            "ExecResult", "ExitStatus", "ExecProcess", "VmState");

    @Test
    void packagesUseOnlyWhatTheyMay() throws IOException {
        List<String> violations = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = "dev.smartvm" + SOURCES.relativize(f.getParent()).toString().replace('/', '.')
                        .replaceFirst("^(?=.)", ".");
                String src = Files.readString(f);
                Set<String> allowed = ALLOWED.get(pkg);
                if (allowed == null) {
                    continue; // the API package itself may use everything below it
                }
                for (Pattern p : List.of(IMPORT, QUALIFIED)) {
                    Matcher m = p.matcher(src);
                    while (m.find()) {
                        String used = m.group(1);
                        String type = m.group(2);
                        boolean ok = used.equals(pkg) || allowed.contains(used)
                                || used.equals("dev.smartvm") && API_VALUES.contains(type);
                        if (!ok) {
                            violations.add(f.getFileName() + " (" + pkg + ") uses " + used + "." + type);
                        }
                    }
                }
            }
        }
        assertThat(violations).isEmpty();
    }
}

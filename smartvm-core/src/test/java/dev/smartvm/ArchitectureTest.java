package dev.smartvm;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The rules of docs/architecture.md, checked on the compiled classes (ArchUnit) and on the
 * module descriptor: no package cycles, a fenced API, an SPI that needs nothing but the API, and
 * small classes.
 */
class ArchitectureTest {
    static final Set<String> EXPORTED = Set.of("dev.smartvm", "dev.smartvm.spi", "dev.smartvm.firecracker");
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.smartvm");

    /**
     * What every implementation package may use of the API: its values and exception, and the
     * listener and service interfaces the implementation calls or implements.
     */
    private static final Set<String> API_VALUES = Set.of("ErrorCode", "SmartVmException", "Acceleration", "ExecRequest",
            "ExecResult", "ExitStatus", "ExecProcess", "VmState", "VmSpec", "NetworkSpec", "VmInfo", "VmNetwork",
            "AdmissionPolicy", "BootPlan", "HostCheck", "ImageInfo", "Images", "SnapshotInfo", "TemplateInfo", "DownloadListener",
            "NameResolver", "TerminalSize", "GuestFiles", "FileEntry", "FileEvent", "FileWatch", "Leftover", "GuestUsage", "VmStats", "TimeLimits");

    @Test
    void theModuleExportsTheApiAndNothingInternal() throws IOException {
        try (var in = Files.newInputStream(Path.of("target/classes/module-info.class"))) {
            ModuleDescriptor d = ModuleDescriptor.read(in);
            assertThat(d.name()).isEqualTo("dev.smartvm");
            assertThat(d.exports()).allSatisfy(e -> assertThat(e.isQualified()).as(e.source()).isFalse());
            assertThat(d.exports().stream().map(ModuleDescriptor.Exports::source)).containsExactlyInAnyOrderElementsOf(
                    EXPORTED);
        }
    }

    /**
     * Packages form no cycle, once the dependencies every implementation package may have on
     * the API's values and exception are set aside.
     */
    @Test
    void packagesFormNoCycle() {
        slices().matching("dev.smartvm.(**)").should().beFreeOfCycles()
                .ignoreDependency(DescribedPredicate.alwaysTrue(),
                        DescribedPredicate.describe("the API's values", ArchitectureTest::isApiValue))
                .check(MAIN);
        // the API package itself is a slice of its own
        noClasses().that().resideInAPackage("dev.smartvm.internal..").should().dependOnClassesThat(
                DescribedPredicate.describe("API types other than its values",
                        (JavaClass c) -> c.getPackageName().equals("dev.smartvm") && !isApiValue(c)))
                .check(MAIN);
    }

    private static boolean isApiValue(JavaClass c) {
        return c.getPackageName().equals("dev.smartvm") && API_VALUES.contains(c.getName().substring(
                "dev.smartvm.".length()).replaceFirst("\\$.*", ""));
    }

    @Test
    void theSpiNeedsNothingButTheApi() {
        noClasses().that().resideInAPackage("dev.smartvm.spi").should().dependOnClassesThat()
                .resideInAPackage("dev.smartvm.internal..").check(MAIN);
        noClasses().that().resideInAnyPackage("dev.smartvm.spi", "dev.smartvm.firecracker").should()
                .dependOnClassesThat().resideInAPackage("com.fasterxml..").check(MAIN);
    }

    /** Every public signature of an exported package uses only JDK types and exported types. */
    @Test
    void publicSignaturesOfTheApiUseOnlyExportedTypes() {
        List<String> leaks = new ArrayList<>();
        for (JavaClass c : MAIN) {
            if (!EXPORTED.contains(c.getPackageName()) || !isVisible(c)) {
                continue;
            }
            for (JavaCodeUnit u : c.getCodeUnits()) {
                if (!isVisible(u.getModifiers()) || u.getName().startsWith("lambda$")) {
                    continue;
                }
                List<JavaType> used = new ArrayList<>(u.getParameterTypes());
                used.add(u.getReturnType());
                used.addAll(u.getThrowsClause().getTypes());
                for (JavaType t : used) {
                    for (JavaClass raw : t.getAllInvolvedRawTypes()) {
                        if (!isExportable(raw)) {
                            leaks.add(u.getFullName() + " uses " + raw.getName());
                        }
                    }
                }
            }
            for (JavaField f : c.getFields()) {
                if (isVisible(f.getModifiers())) {
                    for (JavaClass raw : f.getType().getAllInvolvedRawTypes()) {
                        if (!isExportable(raw)) {
                            leaks.add(f.getFullName() + " uses " + raw.getName());
                        }
                    }
                }
            }
            for (JavaType t : Stream.concat(c.getInterfaces().stream(), c.getSuperclass().stream()).toList()) {
                for (JavaClass raw : t.getAllInvolvedRawTypes()) {
                    if (!isExportable(raw)) {
                        leaks.add(c.getName() + " extends " + raw.getName());
                    }
                }
            }
        }
        assertThat(leaks).isEmpty();
    }

    private static boolean isVisible(JavaClass c) {
        JavaClass at = c;
        while (at != null) {
            if (!isVisible(at.getModifiers())) {
                return false;
            }
            at = at.getEnclosingClass().orElse(null);
        }
        return true;
    }

    private static boolean isVisible(Set<JavaModifier> modifiers) {
        return modifiers.contains(JavaModifier.PUBLIC) || modifiers.contains(JavaModifier.PROTECTED);
    }

    private static boolean isExportable(JavaClass raw) {
        JavaClass c = raw.isArray() ? raw.getBaseComponentType() : raw;
        return c.isPrimitive() || c.getPackageName().startsWith("java.") || EXPORTED.contains(c.getPackageName());
    }

    /** Engines are compared by the backend's type and capabilities, never by name, outside their own package. */
    @Test
    void noEngineNameIsComparedOutsideItsOwnBackend() throws IOException {
        Set<String> found = new TreeSet<>();
        Path root = Path.of("src/main/java/dev/smartvm");
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = root.relativize(f.getParent()).toString();
                String src = Files.readString(f);
                for (String engine : List.of("qemu", "firecracker", "smolvm", "kubernetes")) {
                    if (pkg.endsWith("internal/" + engine)) {
                        continue;
                    }
                    if (src.matches("(?s).*(\"" + engine + "\"\\s*\\.equals|equals\\(\\s*\"" + engine + "\"\\s*\\)"
                            + "|case\\s+\"" + engine + "\").*")) {
                        found.add(root.relativize(f) + " compares the name \"" + engine + "\"");
                    }
                }
            }
        }
        assertThat(found).isEmpty();
    }

    @Test
    void noClassIsOver400Lines() throws IOException {
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            List<String> big = files.filter(p -> p.toString().endsWith(".java")).filter(p -> lines(p) > 400)
                    .map(p -> p + ": " + lines(p) + " lines").collect(Collectors.toList());
            assertThat(big).isEmpty();
        }
    }

    static long lines(Path p) {
        try (Stream<String> s = Files.lines(p)) {
            return s.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

package dev.smartvm.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The CLI is a client of the library like any other: it uses only what the core module exports
 * (read from the core jar's own module descriptor), and its classes stay small.
 */
class CliArchitectureTest {
    private static final JavaClasses CLI = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.smartvm.cli");

    /** What the core's own module descriptor exports (from its jar, or its classes directory). */
    private static Set<String> exportedByCore() throws Exception {
        Path core = Path.of(dev.smartvm.SmartVm.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (FileSystem jar = Files.isDirectory(core) ? null : FileSystems.newFileSystem(core)) {
            Path descriptor = (jar == null ? core : jar.getPath("/")).resolve("module-info.class");
            assertThat(descriptor).as("the core has a module descriptor").exists();
            try (InputStream in = Files.newInputStream(descriptor)) {
                return ModuleDescriptor.read(in).exports().stream().map(ModuleDescriptor.Exports::source)
                        .collect(Collectors.toSet());
            }
        }
    }

    @Test
    void theCliUsesOnlyWhatTheCoreExports() throws Exception {
        Set<String> exported = exportedByCore();
        assertThat(exported).contains("dev.smartvm").noneMatch(p -> p.contains(".internal"));
        noClasses().should().dependOnClassesThat(DescribedPredicate.describe("core classes in packages it does not export",
                (JavaClass c) -> c.getPackageName().startsWith("dev.smartvm") && !c.getPackageName().startsWith("dev.smartvm.cli")
                        && !exported.contains(c.getPackageName())))
                .check(CLI);
    }

    @Test
    void noClassIsOver400Lines() throws IOException {
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            assertThat(files.filter(p -> p.toString().endsWith(".java")).filter(p -> lines(p) > 400).map(Path::toString))
                    .isEmpty();
        }
    }

    private static long lines(Path p) {
        try (Stream<String> s = Files.lines(p)) {
            return s.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

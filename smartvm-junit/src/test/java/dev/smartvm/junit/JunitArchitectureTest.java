package dev.smartvm.junit;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The extension is a client of the library like any other (nothing under dev.smartvm.internal),
 * and its public face is the annotations and the extension class: everything else is package-private.
 */
class JunitArchitectureTest {
    private static final JavaClasses MAIN = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.smartvm.junit");

    @Test
    void usesOnlyTheLibrarysApi() {
        noClasses().should().dependOnClassesThat().resideInAPackage("dev.smartvm.internal..").check(MAIN);
    }

    @Test
    void onlyTheAnnotationsAndTheExtensionArePublic() {
        classes().that().haveModifier(JavaModifier.PUBLIC).and().areTopLevelClasses().should()
                .haveSimpleNameStartingWith("Sandbox").orShould().haveSimpleNameStartingWith("SmartVm").check(MAIN);
        classes().that().haveSimpleName("Sandboxes").or().haveSimpleName("Templates").or().haveSimpleName("Readiness")
                .should().notBePublic().check(MAIN);
    }
}

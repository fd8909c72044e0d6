package dev.smartvm.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import dev.smartvm.EnabledIfQemuAvailable;
import dev.smartvm.ErrorCode;
import dev.smartvm.Leftover;
import dev.smartvm.RealVmTest;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.TemplateInfo;
import dev.smartvm.internal.io.FileTrees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * The extension, run as a user's build would run it: JUnit's test kit executes the sample
 * classes of {@link Samples} on a home of this test's own, and the outcomes, the VMs the samples
 * saw and what is left in the home afterwards are checked.
 */
@Tag("integration")
@EnabledIfQemuAvailable
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SandboxExtensionIT {
    private Path home;

    @BeforeAll
    void ownHome() throws Exception {
        home = Files.createTempDirectory(Path.of("/tmp"), "svj");
        System.setProperty("smartvm.home", home.toString());
        System.setProperty("smartvm.images", RealVmTest.sharedImages().toString());
        System.setProperty(Samples.ENABLED, "true");
    }

    @AfterAll
    void removeHome() throws Exception {
        System.clearProperty("smartvm.home");
        System.clearProperty("smartvm.images");
        System.clearProperty(Samples.ENABLED);
        try (SmartVm svm = SmartVm.builder().home(home).build()) {
            svm.templates().forEach(t -> svm.removeTemplate(t.name()));
        }
        FileTrees.delete(home);
    }

    @BeforeEach
    void forget() {
        Samples.SEEN.clear();
    }

    /** Runs a sample class; what failed in it, if anything, is printed (an unexpected failure says why). */
    private static EngineExecutionResults run(Class<?> sample) {
        EngineExecutionResults results = EngineTestKit.engine("junit-jupiter").selectors(selectClass(sample)).execute();
        results.allEvents().failed().stream().forEach(e -> e.getPayload(TestExecutionResult.class).flatMap(
                TestExecutionResult::getThrowable).ifPresent(t -> System.err.println(e.getTestDescriptor().getDisplayName()
                + " failed: " + t)));
        return results;
    }

    /** The VMs of the home, as a process that did not make them sees them (nothing reaped at its start). */
    private List<String> vmsLeft() {
        try (SmartVm svm = SmartVm.builder().home(home).reapAtOpen(false).build()) {
            return svm.list().stream().map(v -> v.name() + " " + v.state()).toList();
        }
    }

    private List<String> seen(String prefix) {
        return Samples.SEEN.stream().filter(s -> s.startsWith(prefix)).map(s -> s.substring(s.lastIndexOf(' ') + 1)).toList();
    }

    @Test
    void staticFieldsLiveForTheClassInstanceFieldsAndParametersForATestAndNothingIsLeft() {
        EngineExecutionResults results = run(Samples.Lifetimes.class);
        results.testEvents().assertStatistics(s -> s.started(3).succeeded(2).failed(1));
        results.testEvents().assertThatEvents().haveExactly(1, event(test("third"),
                finishedWithFailure(instanceOf(AssertionError.class), message("fails on purpose"))));

        assertThat(seen("first shared")).isEqualTo(seen("second shared")).hasSize(1);
        List<String> own = List.of(seen("first own").get(0), seen("second own").get(0), seen("third own").get(0));
        assertThat(own).as("each test its own VM").doesNotHaveDuplicates();
        assertThat(seen("first param")).doesNotContainAnyElementsOf(own).doesNotContainAnyElementsOf(seen("first shared"));
        assertThat(vmsLeft()).as("every VM removed, the failed test's too").isEmpty();
    }

    @Test
    void aCheckThatNeverPassesFailsTheTestWithTheConsoleTailAndRemovesItsVm() {
        EngineExecutionResults params = run(Samples.NeverReady.class);
        params.testEvents().assertStatistics(s -> s.started(3).failed(3));
        EngineExecutionResults field = run(Samples.NeverReadyField.class);
        field.testEvents().assertStatistics(s -> s.started(1).failed(1));
        Map<String, String> expected = Map.of("field", "sandbox", "command", "`test -e /never` exited 1",
                "port", "nothing listens on TCP port 8080", "log", "no console line contains 'no such line'");
        Map<String, SmartVmException> failures = new TreeMap<>();
        for (Event e : java.util.stream.Stream.concat(params.testEvents().failed().stream(), field.testEvents().failed().stream())
                .toList()) {
            Throwable t = e.getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow();
            while (!(t instanceof SmartVmException) && t.getCause() != null) {
                t = t.getCause(); // a parameter's is wrapped in JUnit's ParameterResolutionException
            }
            failures.put(e.getTestDescriptor().getDisplayName().replaceFirst("\\(.*", ""), (SmartVmException) t);
        }
        assertThat(failures.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        failures.forEach((test, e) -> {
            assertThat(e.code()).as(test).isEqualTo(ErrorCode.NOT_READY);
            assertThat(e.getMessage()).as(test).contains("not ready within 2 s: ", expected.get(test).startsWith("sandbox")
                    ? "`test -e /never`" : expected.get(test), "--- last console lines ---");
        });
        assertThat(failures.get("field").getMessage()).startsWith("sandbox NeverReadyField.vm (VM vm-");
        assertThat(failures.get("port").getMessage()).startsWith("sandbox parameter 0 of port (VM vm-");
        assertThat(Samples.SEEN).as("no test body ran").isEmpty();
        assertThat(vmsLeft()).isEmpty();
    }

    @Test
    void aDescribedTemplateIsMadeOnceReusedAndRemadeWhenItsInputsChange() {
        run(Samples.FromTemplate.class).testEvents().assertStatistics(s -> s.started(2).succeeded(2));
        assertThat(seen("template")).hasSize(2).doesNotHaveDuplicates();
        TemplateInfo made = onlyTemplate();
        assertThat(made.name()).matches("web-[0-9a-f]{10}");

        run(Samples.FromTemplate.class).testEvents().assertStatistics(s -> s.started(2).succeeded(2));
        assertThat(onlyTemplate()).as("another run reuses it").isEqualTo(made);

        run(Samples.FromChangedTemplate.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        TemplateInfo remade = onlyTemplate();
        assertThat(remade.name()).as("new inputs, a new template; the old one removed").matches("web-[0-9a-f]{10}")
                .isNotEqualTo(made.name());
        assertThat(vmsLeft()).isEmpty();
    }

    private TemplateInfo onlyTemplate() {
        try (SmartVm svm = SmartVm.builder().home(home).reapAtOpen(false).build()) {
            assertThat(svm.templates()).hasSize(1);
            return svm.templates().get(0);
        }
    }

    @Test
    void aFieldThatIsNoMicroVmIsAConfigurationError() {
        run(Samples.Misconfigured.class).testEvents().assertThatEvents().haveExactly(1, event(test("never"),
                finishedWithFailure(instanceOf(ExtensionConfigurationException.class),
                        message("@Sandbox sandbox Misconfigured.vm must be a MicroVm that is not final"))));
        assertThat(Samples.SEEN).isEmpty();
    }

    /**
     * A test JVM dies in the middle of a test (halt: no JUnit or SmartVM cleanup): its VM is left
     * running, gc sees it as a dead owner's, and the next SmartVm on the home removes it.
     */
    @Test
    void theVmOfAKilledTestJvmIsReapedByTheNextSmartVm() throws Exception {
        Path idFile = home.resolve("halted-vm");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dsmartvm.home=" + home, "-Dsmartvm.images=" + RealVmTest.sharedImages(), "-D" + Samples.ENABLED + "=true",
                "-Dsmartvm.junit.idFile=" + idFile, "-cp", System.getProperty("java.class.path"), RunInChild.class.getName(),
                Samples.Halts.class.getName())
                .redirectErrorStream(true).redirectOutput(home.resolve("child.log").toFile()).start();
        assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(Files.readString(home.resolve("child.log"))).isEqualTo(3);
        String vm = Files.readString(idFile);
        assertThat(vmsLeft()).as("its VM outlives it").containsExactly(vm + " RUNNING");

        try (SmartVm gc = SmartVm.builder().home(home).reapAtOpen(false).build()) {
            assertThat(gc.collectGarbage(true)).filteredOn(l -> l.kind() == Leftover.Kind.VM).extracting(Leftover::name)
                    .containsExactly(vm);
        }
        try (SmartVm next = SmartVm.builder().home(home).build()) {
            assertThat(next.list()).as("the next SmartVm reaped it").isEmpty();
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().orElse("").contains(home + "/vms/"))) {
            assertThat(System.nanoTime()).as("its QEMU is killed").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** Runs one test class in a JVM of its own, through the JUnit Platform launcher, as a build tool would. */
    public static final class RunInChild {
        public static void main(String[] args) throws Exception {
            var request = org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request()
                    .selectors(selectClass(Class.forName(args[0]))).build();
            org.junit.platform.launcher.core.LauncherFactory.create().execute(request);
        }
    }
}

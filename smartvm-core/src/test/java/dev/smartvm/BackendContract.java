package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.smartvm.internal.image.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * What every backend must do, through the public API: boot, run commands, move files, pause,
 * stop and start again, be driven from a second SmartVm, fail cleanly; snapshot, restore, make
 * templates, clone and fork, or refuse them naming the engines that can. QEMU passes it on real
 * VMs; Firecracker against its fake, whose "guest" runs on the host: so the commands here stay
 * harmless on either side and write only under a fresh /tmp path.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
public abstract class BackendContract {
    protected Path home;
    protected SmartVm svm;
    private final String scratch = "/tmp/smartvm-contract-" + UUID.randomUUID();

    /** The backend's name in {@link VmSpec}. */
    protected abstract String backend();

    /** Adds what the backend needs (its instance, the shared image cache) to a builder. */
    protected abstract SmartVm.Builder configure(SmartVm.Builder builder) throws IOException;

    /** A bootable image reference. */
    protected abstract String image() throws IOException;

    /** An image that this backend's VMM starts on but cannot boot (the kernel is an empty ELF). */
    protected String brokenImage() throws IOException {
        return TestImages.directory(home.resolve("broken-image"), false).toString();
    }

    /** Whether the engine can pause a VM; one that cannot must say so (UNSUPPORTED) and keep it running. */
    protected boolean canPause() {
        return true;
    }

    /**
     * Whether the engine saves VMs: snapshots, templates and fork. One that cannot must refuse
     * each with UNSUPPORTED, naming an engine that can, and leave nothing behind.
     */
    protected boolean canSave() {
        return true;
    }

    private static void assertRefusedNamingQemu(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(SmartVmException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
            assertThat(e.getMessage()).contains("the firecracker and qemu backends can");
        });
    }

    private void pauseAndResume(MicroVm vm) {
        if (canPause()) {
            vm.pause();
            assertThat(vm.state()).isEqualTo(VmState.PAUSED);
            assertThatThrownBy(() -> vm.exec("true")).hasMessageContaining("paused");
            vm.resume();
        } else {
            assertThatThrownBy(vm::pause).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED));
            assertThat(vm.state()).isEqualTo(VmState.RUNNING);
        }
    }

    @BeforeAll
    void open() throws IOException {
        home = Files.createTempDirectory(Path.of("/tmp"), "svc");
        svm = configure(SmartVm.builder().home(home).notices(System.err::println)).build();
    }

    protected VmSpec.Builder spec() throws IOException {
        return VmSpec.builder().backend(backend()).image(image()).bootTimeout(Duration.ofSeconds(60));
    }

    @Test
    void runsCommandsAndMovesFiles() throws IOException {
        try (MicroVm vm = svm.start(spec().build())) {
            assertThat(vm.info().backend()).isEqualTo(backend());
            ExecResult r = vm.exec(ExecRequest.shell("echo out; echo err >&2; exit 3"));
            assertThat(r.exitCode()).isEqualTo(3);
            assertThat(r.stdout()).isEqualTo("out\n");
            assertThat(r.stderr()).isEqualTo("err\n");
            assertThat(vm.exec(ExecRequest.shell("echo $GREETING; pwd").withEnv("GREETING", "hi").withWorkdir("/tmp")
                    .withStdin("ignored".getBytes(StandardCharsets.UTF_8))).stdout()).isEqualTo("hi\n/tmp\n");
            assertThat(vm.exec(ExecRequest.of("cat").withStdin("fed\n".getBytes(StandardCharsets.UTF_8))).stdout())
                    .isEqualTo("fed\n");
            streamsStdinToItsEnd(vm);
            assertThat(vm.exec(ExecRequest.of("sleep", "5").withTimeout(Duration.ofMillis(200))).exitCode()).isEqualTo(124);
            assertThat(vm.exec("no-such-command-here").exitCode()).isEqualTo(127);

            Path local = Files.writeString(home.resolve("in.txt"), "payload\n".repeat(1000));
            vm.exec("mkdir", "-p", scratch);
            vm.copyTo(local, scratch + "/in.txt");
            assertThat(vm.exec("wc", "-c", scratch + "/in.txt").stdout()).startsWith("8000");
            Path back = home.resolve("back.txt");
            vm.copyFrom(scratch + "/in.txt", back);
            assertThat(back).hasSameBinaryContentAs(local);
            vm.exec("rm", "-rf", scratch);
        }
    }

    /** Whether a spawned command reads a stdin written as it runs, to its end; one that cannot must say so. */
    protected boolean streamsStdin() {
        return true;
    }

    /** Stdin written bit by bit while the command runs, then closed: the command reads it all, ends, and its exit code comes. */
    private void streamsStdinToItsEnd(MicroVm vm) throws IOException {
        ExecRequest request = ExecRequest.of("sh", "-c", "cat; echo end; exit 5");
        if (!streamsStdin()) {
            assertThatThrownBy(() -> vm.spawn(request)).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED));
            return;
        }
        try (ExecProcess p = vm.spawn(request)) {
            p.stdin().write("one\n".getBytes(StandardCharsets.UTF_8));
            p.stdin().flush();
            p.stdin().write("two\n".getBytes(StandardCharsets.UTF_8));
            p.stdin().close();
            assertThat(new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("one\ntwo\nend\n");
            assertThat(p.waitFor(Duration.ofSeconds(30)).code()).isEqualTo(5);
        }
    }

    @Test
    void pausesResumesStopsAndStartsAgain() throws IOException {
        try (MicroVm vm = svm.start(spec().build())) {
            pauseAndResume(vm);
            assertThat(vm.exec("echo", "after").stdout()).isEqualTo("after\n");
            long pid = vm.info().pid();
            vm.stop();
            assertThat(vm.state()).isEqualTo(VmState.STOPPED);
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(catchThrowable(() -> vm.exec("true"))).isInstanceOf(SmartVmException.class);
            vm.start();
            assertThat(vm.exec("echo", "again").stdout()).isEqualTo("again\n");
        }
    }

    /** The agent serves one host connection at a time: a handle lets go (detach) before another takes over. */
    @Test
    void anotherSmartVmOnTheSameHomeDrivesTheVm() throws IOException {
        String name = "shared-" + backend();
        MicroVm first = svm.start(spec().name(name).build());
        try {
            assertThat(first.exec("echo", "first").stdout()).isEqualTo("first\n");
            first.detach();
            try (SmartVm other = configure(SmartVm.builder().home(home)).build()) {
                MicroVm seen = other.get(name).orElseThrow();
                assertThat(seen.state()).isEqualTo(VmState.RUNNING);
                assertThat(seen.exec("echo", "from", "another").stdout()).isEqualTo("from another\n");
                pauseAndResume(seen);
                seen.detach();
            }
            try (MicroVm again = svm.get(name).orElseThrow()) {
                assertThat(again.exec("echo", "still").stdout()).isEqualTo("still\n");
            }
        } finally {
            svm.get(name).ifPresent(MicroVm::remove); // detached: nobody else removes it
        }
    }

    @Test
    void aSnapshotStartsACopyWhereTheVmWas() throws IOException {
        try (MicroVm vm = svm.start(spec().build())) {
            vm.exec("mkdir", "-p", scratch);
            vm.exec("sh", "-c", "echo kept > " + scratch + "/snapshot.txt");
            if (!canSave()) {
                assertRefusedNamingQemu(() -> vm.snapshot("refused-" + backend()));
                assertThat(svm.snapshots()).isEmpty();
                assertThat(home.resolve("snapshots").toFile().list()).isNullOrEmpty();
                return;
            }
            String name = "snap-" + backend();
            SnapshotInfo saved = vm.snapshot(name);
            assertThat(vm.state()).isEqualTo(VmState.RUNNING); // resumed after the save
            assertThat(saved.backend()).isEqualTo(backend());
            assertThat(saved.engineVersion()).isNotEqualTo("unknown");
            assertThat(svm.snapshots()).extracting(SnapshotInfo::name).containsExactly(name);
            try (MicroVm copy = svm.restore(name, null)) {
                assertThat(copy.id()).isNotEqualTo(vm.id());
                assertThat(copy.state()).isEqualTo(VmState.RUNNING);
                assertThat(copy.exec("cat", scratch + "/snapshot.txt").stdout()).isEqualTo("kept\n");
                try (MicroVm second = svm.restore(name, null)) { // a snapshot is read, never used up
                    assertThat(second.exec("echo", "second").stdout()).isEqualTo("second\n");
                }
            }
            assertThat(vm.exec("echo", "source").stdout()).isEqualTo("source\n");
            svm.removeSnapshot(name);
            assertThat(catchThrowable(() -> svm.restore(name, null))).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.SNAPSHOT_NOT_FOUND));
        }
    }

    /** Clones map the template's memory without writing it, and a template with clones stays. */
    @Test
    void templatesStartClonesThatShareTheirMemory() throws Exception {
        String name = "tpl-" + backend();
        String prepare = "mkdir -p " + scratch + " && echo prepared > " + scratch + "/template.txt";
        if (!canSave()) {
            assertRefusedNamingQemu(() -> svm.createTemplate(name, spec().build(), List.of(prepare)));
            assertThat(svm.templates()).isEmpty();
            assertThat(svm.list()).isEmpty();
            return;
        }
        TemplateInfo t = svm.createTemplate(name, spec().build(), List.of(prepare));
        Path memory = t.directory().resolve("memory");
        String before = sha256(memory);
        MicroVm clone = svm.start(VmSpec.builder().template(name).bootTimeout(Duration.ofSeconds(60)).build());
        try (MicroVm other = svm.start(VmSpec.builder().template(name).bootTimeout(Duration.ofSeconds(60)).build())) {
            assertThat(clone.info().backend()).isEqualTo(backend());
            assertThat(clone.exec("cat", scratch + "/template.txt").stdout()).isEqualTo("prepared\n");
            assertThat(other.exec("echo", "other").stdout()).isEqualTo("other\n");
            assertThat(catchThrowable(() -> svm.removeTemplate(name))).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.TEMPLATE_IN_USE));
        } finally {
            clone.remove();
        }
        assertThat(sha256(memory)).isEqualTo(before);
        svm.removeTemplate(name);
        assertThat(t.directory()).doesNotExist();
        assertThat(svm.templates()).isEmpty();
    }

    /**
     * Whether the source of a fork runs on (QEMU, Firecracker: paused only while saved) or stays
     * frozen while its forks exist (smolvm's {@code machine fork}).
     */
    protected boolean forkFreezesSource() {
        return false;
    }

    /** Whether the engine forks a running VM; one that cannot must say so (UNSUPPORTED, naming those that can). */
    protected boolean canFork() {
        return true;
    }

    @Test
    void forkContinuesARunningVmInChildren() throws IOException {
        try (MicroVm vm = svm.start(spec().build())) {
            if (!canFork()) {
                assertThatThrownBy(() -> vm.fork(2)).isInstanceOfSatisfying(SmartVmException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
                    assertThat(e.getMessage()).contains("qemu").contains("backends can");
                });
                assertThat(svm.list()).extracting(VmInfo::id).containsExactly(vm.id());
                assertThat(vm.exec("echo", "source").stdout()).isEqualTo("source\n");
                return;
            }
            List<MicroVm> children = vm.fork(2);
            try {
                assertThat(children).extracting(MicroVm::name).doesNotHaveDuplicates().doesNotContain(vm.name());
                for (MicroVm child : children) {
                    assertThat(child.info().backend()).isEqualTo(backend());
                    assertThat(child.exec("echo", child.name()).stdout()).isEqualTo(child.name() + "\n");
                }
                if (forkFreezesSource()) {
                    assertThat(vm.state()).isEqualTo(VmState.PAUSED);
                    assertThat(catchThrowable(vm::resume)).isInstanceOfSatisfying(SmartVmException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED));
                    assertThat(catchThrowable(vm::stop)).isInstanceOfSatisfying(SmartVmException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE);
                        assertThat(e.getMessage()).contains(children.get(0).id()).contains("remove them first");
                    });
                    assertThat(vm.state()).isEqualTo(VmState.PAUSED); // refused before anything of the stop happened
                } else {
                    assertThat(vm.state()).isEqualTo(VmState.RUNNING);
                    assertThat(vm.exec("echo", "source").stdout()).isEqualTo("source\n");
                }
            } finally {
                children.forEach(MicroVm::remove);
            }
            assertThat(svm.templates()).as("a fork's template goes with its last child").isEmpty();
            vm.stop(); // its forks gone, the source stops as any VM
            assertThat(vm.state()).isEqualTo(VmState.STOPPED);
        }
    }

    private static String sha256(Path file) throws Exception {
        java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] b = new byte[1 << 20];
            for (int n; (n = in.read(b)) > 0; ) {
                d.update(b, 0, n);
            }
        }
        return java.util.HexFormat.of().formatHex(d.digest());
    }

    @Test
    void aVmThatCannotBootFailsAndLeavesNoProcess() throws IOException {
        MicroVm vm = svm.create(spec().image(brokenImage()).bootTimeout(Duration.ofSeconds(15)).build());
        Throwable t = catchThrowable(vm::start);
        assertThat(t).isInstanceOf(SmartVmException.class);
        assertThat(((SmartVmException) t).code()).isEqualTo(ErrorCode.BOOT_FAILED);
        assertThat(vm.state()).isIn(VmState.CREATED, VmState.STOPPED);
        assertThat(processesUnder(home.resolve("vms").resolve(vm.id()))).isEmpty();
        vm.remove();
        assertThat(home.resolve("vms").resolve(vm.id())).doesNotExist();
    }

    private static List<String> processesUnder(Path dir) {
        return ProcessHandle.allProcesses()
                .filter(ProcessHandle::isAlive)
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .filter(c -> c.contains(dir.toString()))
                .toList();
    }

    @AfterAll
    void closeAndCheckNothingIsLeft() throws IOException {
        if (svm != null) { // null when the subclass skipped the whole class
            svm.close();
        }
        assertThat(processesUnder(home)).as("processes left behind").isEmpty();
        try (Stream<Path> left = Files.exists(home.resolve("vms")) ? Files.list(home.resolve("vms")) : Stream.empty()) {
            assertThat(left.filter(Files::isDirectory).toList()).as("VM directories left behind").isEmpty();
        }
        try (Stream<Path> all = Files.walk(home)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        engineClosed();
    }

    /** Runs last, once every VM is gone and checked for: where a test stops the engine it stood up (a fake server). */
    protected void engineClosed() {
    }
}

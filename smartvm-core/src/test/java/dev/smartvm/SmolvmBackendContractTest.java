package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.smolvm.FakeSmolvm;
import dev.smartvm.internal.smolvm.SmolvmBackend;
import dev.smartvm.internal.smolvm.SmolvmCli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The backend contract on the smolvm backend, against the strict fake smolvm (the real one
 * cannot be installed here): the backend's real code runs the fake's CLI for every step, and
 * the fake's "guest" is this host, so the contract's commands stay under a fresh /tmp path.
 */
class SmolvmBackendContractTest extends BackendContract {
    private SmolvmCli cli;

    @Override
    protected String backend() {
        return "smolvm";
    }

    @Override
    protected SmartVm.Builder configure(SmartVm.Builder builder) throws IOException {
        if (cli == null) {
            Path smolvm = FakeSmolvm.install(home.resolve("bin"), home.resolve("smolvm-data"));
            cli = SmolvmCli.locate(smolvm.toString(), CommandRunner.system());
        }
        return builder.backend(SmolvmBackend.using(cli));
    }

    @Override
    protected String image() {
        return "docker.io/library/alpine:3.20";
    }

    @Override
    protected String brokenImage() {
        return "registry.invalid/broken:1";
    }

    @Override
    protected boolean canSave() {
        return false;
    }

    @Override
    protected boolean forkFreezesSource() {
        return true;
    }

    @Override
    protected boolean canPause() {
        return false;
    }

    @Test
    void aVmIsASmolvmMachineThatGoesWithIt() throws IOException {
        MicroVm vm = svm.create(spec().name("sm").network(NetworkSpec.enabled(List.of("10.0.0.0/8", "example.com"), List.of()))
                .cpus(2).memoryMib(384).build());
        vm.start();
        assertThat(vm.info().network().mode()).as("smolvm's own network").isNull();
        String machine = "smartvm-" + vm.id();
        assertThat(cli.status(machine).running()).isTrue();
        assertThat(cli.status(machine).cpus()).isEqualTo(2);
        assertThat(cli.status(machine).memoryMib()).isEqualTo(384);
        vm.stop();
        assertThat(cli.status(machine).running()).isFalse();
        vm.start(); // the same machine again
        assertThat(vm.exec("echo", "back").stdout()).isEqualTo("back\n");
        vm.remove();
        assertThat(cli.ls()).extracting(m -> m.name()).doesNotContain(machine);
    }

    @Test
    void directoriesGoInAndComeOutFileByFile() throws IOException {
        try (MicroVm vm = svm.start(spec().build())) {
            Path tree = Files.createDirectories(home.resolve("tree/sub"));
            Files.writeString(tree.resolve("a.txt"), "alpha");
            Files.writeString(home.resolve("tree/b.txt"), "beta");
            String guest = "/tmp/smartvm-smolvm-" + vm.id();
            vm.exec("mkdir", "-p", guest);
            assertThat(vm.copyTo(home.resolve("tree"), guest)).isEqualTo(9);
            assertThat(vm.exec("cat", guest + "/tree/sub/a.txt").stdout()).isEqualTo("alpha");
            Path back = Files.createDirectories(home.resolve("back"));
            assertThat(vm.copyFrom(guest + "/tree", back)).isEqualTo(9);
            assertThat(back.resolve("tree/b.txt")).hasContent("beta");
            vm.exec("rm", "-rf", guest);
        }
    }

    @Test
    void whatSmolvmCannotDoIsRefusedBeforeAnythingIsMade() throws IOException {
        for (NetworkSpec net : List.of(NetworkSpec.enabled(List.of(), List.of("10.0.0.0/8")),
                NetworkSpec.enabled(List.of("10.0.0.1:443"), List.of()),
                NetworkSpec.enabled(List.of(), List.of()).publishing(List.of("5353:53/udp")))) {
            MicroVm vm = svm.create(spec().network(net).build());
            assertThatThrownBy(vm::start).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED)).hasMessageContaining("smolvm backend cannot do");
            assertThat(cli.ls()).extracting(m -> m.name()).doesNotContain("smartvm-" + vm.id());
            vm.remove();
        }
        try (MicroVm vm = svm.start(spec().build())) {
            assertThatThrownBy(() -> vm.exec(ExecRequest.of("id").withUid(1000))).hasMessageContaining("takes no --user");
            assertThat(vm.exec(ExecRequest.of("sleep", "5").withTimeout(Duration.ofSeconds(1))).status().timedOut()).isTrue();
        }
    }

    /**
     * smolvm 1.9.3 refuses an image machine without a network (it pulls from inside): a VM
     * without one is made from a pack the host pulled, once per image, and still has no network.
     */
    @Test
    void aVmWithoutANetworkIsMadeFromAPackOfItsImage() throws Exception {
        try (MicroVm a = svm.start(spec().build()); MicroVm b = svm.start(spec().build())) {
            try (var packs = Files.list(home.resolve("smolvm-packs"))) {
                assertThat(packs.toList()).as("one pack for both").hasSize(1)
                        .allSatisfy(p -> assertThat(p.resolve("image.smolmachine")).isRegularFile());
            }
            var status = dev.smartvm.internal.io.Json.MAPPER.readTree(CommandRunner.system().run(
                    List.of(cli.binary(), "machine", "status", "--name", "smartvm-" + a.id(), "--json"), null,
                    Duration.ofSeconds(30)).stdout());
            assertThat(status.at("/network/enabled").asBoolean()).isFalse();
            assertThat(b.exec("echo", "packed").stdout()).isEqualTo("packed\n");
        }
        try (MicroVm net = svm.start(spec().network(NetworkSpec.enabled(List.of("10.0.0.0/8"), List.of())).build())) {
            assertThat(net.exec("true").exitCode()).as("a machine with a network pulls its image itself").isZero();
        }
    }

    /** As on every engine: 127 for a missing command, 126 for a missing working directory, the stderr without smolvm's notes. */
    @Test
    void exitCodesAreSmartVmsWhereSmolvmSaysOtherwise() throws IOException {
        try (MicroVm vm = svm.start(spec().build())) {
            assertThat(vm.exec("no-such-program").exitCode()).isEqualTo(127);
            assertThat(vm.exec(ExecRequest.of("true").withWorkdir("/no/such/dir")).exitCode()).isEqualTo(126);
            ExecResult slow = vm.exec(ExecRequest.of("sh", "-c", "echo before >&2; exec sleep 10").withTimeout(Duration.ofSeconds(1)));
            assertThat(slow.exitCode()).isEqualTo(124);
            assertThat(slow.stderr()).isEqualTo("before\n");
            ExecResult slowWithStdin = vm.exec(ExecRequest.of("sh", "-c", "cat >&2; exec sleep 10").withStdin("in\n".getBytes())
                    .withTimeout(Duration.ofSeconds(1)));
            assertThat(slowWithStdin.exitCode()).isEqualTo(124);
            assertThat(slowWithStdin.stderr()).isEqualTo("in\n");
            try (ExecProcess streamed = vm.spawn(ExecRequest.of("sh", "-c", "echo streamed >&2; exec sleep 10")
                    .withTimeout(Duration.ofSeconds(1)))) {
                assertThat(new String(streamed.stderr().readAllBytes())).as("smolvm's timeout line is not the command's")
                        .isEqualTo("streamed\n");
                assertThat(streamed.waitFor(Duration.ofSeconds(30)).timedOut()).isTrue();
            }
            assertThat(vm.exec("sh", "-c", "head -c 12000000 /dev/zero | wc -c").stdout().strip())
                    .as("more than smolvm's 11 MiB of collected output is no error: SmartVM streams").isEqualTo("12000000");
            assertThat(vm.exec("head", "-c", "12000000", "/dev/zero").stdout()).hasSize(12_000_000);
        }
    }

    /** smolvm's cp takes the whole target path and any source with ':' for a machine's: SmartVM copies as cp -r does. */
    @Test
    void copiesGoIntoDirectoriesAndFromPathsWithColons() throws IOException {
        try (MicroVm vm = svm.start(spec().build())) {
            String guest = "/tmp/smartvm-smolvm-cp-" + vm.id();
            vm.exec("mkdir", "-p", guest);
            Path colon = Files.writeString(home.resolve("a:b.txt"), "colon");
            vm.copyTo(colon, guest);
            assertThat(vm.exec("cat", guest + "/a:b.txt").stdout()).isEqualTo("colon");
            vm.copyTo(colon, guest + "/sub/../renamed.txt");
            assertThat(vm.exec("cat", guest + "/renamed.txt").stdout()).isEqualTo("colon");
            Path back = Files.createDirectories(home.resolve("back-colon"));
            vm.copyFrom(guest + "/renamed.txt", back);
            assertThat(back.resolve("renamed.txt")).hasContent("colon");
            vm.exec("rm", "-rf", guest);
        }
    }

    /** A golden whose owner died is deleted after its forks: smolvm's delete -f of it first would leave them dangling. */
    @Test
    void aGoldensForksGoBeforeItWhenTheReaperRemovesIt() throws IOException {
        MicroVm vm = svm.start(spec().build());
        List<MicroVm> forks = vm.fork(1);
        String golden = "smartvm-" + vm.id();
        String fork = "smartvm-" + forks.get(0).id();
        assertThat(cli.ls()).extracting(m -> m.name()).contains(golden, fork);
        SmolvmBackend.using(cli).discard(home.resolve("vms").resolve(vm.id())); // the reaper's removal path
        assertThat(cli.ls()).extracting(m -> m.name()).doesNotContain(golden, fork);
        forks.forEach(MicroVm::remove);
        vm.remove();
    }
}

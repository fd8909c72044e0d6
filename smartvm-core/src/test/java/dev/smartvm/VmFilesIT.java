package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.internal.io.Hashing;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Copies between the host and a real microVM. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class VmFilesIT extends RealVmTest {
    private MicroVm vm;

    @TempDir
    Path dir;

    @BeforeAll
    void boot() {
        vm = svm.start(VmSpec.builder().name("files-it").memoryMib(512).build());
    }

    @AfterAll
    void shutdown() {
        vm.close();
    }

    @Test
    void copiesAFileBothWays() throws Exception {
        Path f = Files.writeString(dir.resolve("hello.txt"), "hello guest\n");
        vm.copyTo(f, "/tmp/hello.txt");
        assertThat(vm.exec("cat", "/tmp/hello.txt").stdout()).isEqualTo("hello guest\n");
        vm.exec("sh", "-c", "echo from guest > /tmp/reply.txt; chmod 640 /tmp/reply.txt");
        Path back = dir.resolve("reply.txt");
        vm.copyFrom("/tmp/reply.txt", back);
        assertThat(back).hasContent("from guest");
        assertThat(Files.getPosixFilePermissions(back)).isEqualTo(PosixFilePermissions.fromString("rw-r-----"));
    }

    @Test
    void copiesDirectoryTreesWithModes() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree/bin"));
        Path tool = Files.writeString(tree.resolve("tool.sh"), "#!/bin/sh\necho tool ran\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("tree/readme"), "read me");
        vm.copyTo(dir.resolve("tree"), "/tmp");
        assertThat(vm.exec("/tmp/tree/bin/tool.sh").stdout()).isEqualTo("tool ran\n");
        assertThat(vm.exec("stat", "-c", "%a", "/tmp/tree/bin/tool.sh").stdout().strip()).isEqualTo("755");

        vm.exec("sh", "-c", "mkdir -p /tmp/made/a/b && echo deep > /tmp/made/a/b/f && chmod 700 /tmp/made/a");
        Path out = Files.createDirectories(dir.resolve("out"));
        vm.copyFrom("/tmp/made", out);
        assertThat(out.resolve("made/a/b/f")).hasContent("deep");
        assertThat(Files.getPosixFilePermissions(out.resolve("made/a"))).isEqualTo(PosixFilePermissions.fromString("rwx------"));
    }

    @Test
    void copies64MibBothWaysIntact() throws Exception {
        Path big = dir.resolve("big.bin");
        byte[] block = new byte[1 << 20];
        Random random = new Random(42);
        try (OutputStream os = Files.newOutputStream(big)) {
            for (int i = 0; i < 64; i++) {
                random.nextBytes(block);
                os.write(block);
            }
        }
        String sha = Hashing.sha256(big);
        assertThat(vm.copyTo(big, "/tmp/big.bin")).isEqualTo(64L << 20);
        assertThat(vm.exec("sha256sum", "/tmp/big.bin").stdout()).startsWith(sha);
        Path back = dir.resolve("back.bin");
        assertThat(vm.copyFrom("/tmp/big.bin", back)).isEqualTo(64L << 20);
        assertThat(Hashing.sha256(back)).isEqualTo(sha);
        vm.exec("rm", "/tmp/big.bin");
    }

    @Test
    void missingPathsFailClearly() {
        assertThatThrownBy(() -> vm.copyFrom("/no/such/thing", dir.resolve("x")))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PATH_NOT_FOUND));
        assertThat(dir.resolve("x")).doesNotExist();
        assertThatThrownBy(() -> vm.copyTo(dir.resolve("absent"), "/tmp/x"))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PATH_NOT_FOUND));
        assertThatThrownBy(() -> vm.copyTo(dir, "relative/path"))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
    }
    @Test
    void theFilesApiWorksInTheGuestAndWatchesIt() {
        GuestFiles files = vm.files();
        files.mkdirs("/tmp/api/sub");
        files.writeString("/tmp/api/sub/a.txt", "from the host");
        assertThat(vm.exec("cat", "/tmp/api/sub/a.txt").stdout()).isEqualTo("from the host");
        assertThat(files.readString("/proc/sys/kernel/hostname").strip()).isEqualTo(vm.name());
        assertThat(files.list("/tmp/api")).singleElement().satisfies(e -> {
            assertThat(e.path()).isEqualTo("/tmp/api/sub");
            assertThat(e.isDirectory()).isTrue();
        });
        assertThat(files.stat("/tmp/api/sub/a.txt").size()).isEqualTo(13);
        try (FileWatch w = files.watch("/tmp/api", true)) {
            vm.exec("sh", "-c", "echo x > /tmp/api/sub/b.txt");
            java.util.List<FileEvent> seen = new java.util.ArrayList<>();
            for (FileEvent e; (e = w.poll(java.time.Duration.ofSeconds(20))) != null;) {
                seen.add(e);
                if (e.kind() == FileEvent.Kind.MODIFIED) {
                    break;
                }
            }
            assertThat(seen).extracting(FileEvent::kind, FileEvent::path).startsWith(
                    org.assertj.core.groups.Tuple.tuple(FileEvent.Kind.CREATED, "/tmp/api/sub/b.txt"),
                    org.assertj.core.groups.Tuple.tuple(FileEvent.Kind.MODIFIED, "/tmp/api/sub/b.txt"));
        }
        files.rename("/tmp/api/sub", "/tmp/api/moved");
        files.remove("/tmp/api", true);
        assertThat(files.exists("/tmp/api")).isFalse();
        assertThatThrownBy(() -> files.readBytes("/tmp/api/moved/a.txt")).isInstanceOf(SmartVmException.class)
                .hasMessageContaining("No such file").extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.PATH_NOT_FOUND);
        try (MicroVm stopped = svm.create(VmSpec.builder().name("files-stopped").build())) {
            assertThatThrownBy(() -> stopped.files().stat("/")).isInstanceOf(SmartVmException.class)
                    .hasMessageContaining("cannot use files in VM 'files-stopped'")
                    .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.INVALID_STATE);
        }
    }
}

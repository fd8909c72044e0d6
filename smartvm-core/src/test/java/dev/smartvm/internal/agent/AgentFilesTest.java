package dev.smartvm.internal.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.FileEntry;
import dev.smartvm.FileEvent;
import dev.smartvm.FileWatch;
import dev.smartvm.GuestFiles;
import dev.smartvm.SmartVmException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The files API against the real agent binary serving on a host socket (its paths are the host's). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentFilesTest {
    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private ListeningAgent agent;
    private AgentClient client;
    private GuestFiles files;
    private String root;

    @BeforeEach
    void start() throws Exception {
        agent = new ListeningAgent(Files.createDirectory(dir.resolve("agent")));
        client = agent.connect();
        files = new AgentFiles(client);
        root = Files.createDirectory(dir.resolve("root")).toString();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        agent.close();
    }

    @Test
    void writesReadsStatsListsRenamesAndRemoves() throws Exception {
        files.mkdirs(root + "/a/b/c");
        files.writeString(root + "/a/b/hello.txt", "hello ✓");
        assertThat(files.readString(root + "/a/b/hello.txt")).isEqualTo("hello ✓");
        assertThat(Files.getPosixFilePermissions(Path.of(root, "a/b/hello.txt"))).hasSize(4); // rw-r--r--
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new java.util.Random(7).nextBytes(big);
        files.write(root + "/big", big);
        assertThat(files.readBytes(root + "/big")).isEqualTo(big);
        files.write(root + "/big", new byte[0]);
        assertThat(files.readBytes(root + "/big")).isEmpty();

        FileEntry f = files.stat(root + "/a/b/hello.txt");
        assertThat(f.type()).isEqualTo(FileEntry.Type.FILE);
        assertThat(f.size()).isEqualTo("hello ✓".getBytes(StandardCharsets.UTF_8).length);
        assertThat(f.mode()).isEqualTo(0644);
        assertThat(f.name()).isEqualTo("hello.txt");
        assertThat(f.modified()).isEqualTo(Files.getLastModifiedTime(Path.of(root, "a/b/hello.txt")).toInstant());
        Files.createSymbolicLink(Path.of(root, "a/link"), Path.of("b/hello.txt"));
        assertThat(files.stat(root + "/a/link").linkTarget()).isEqualTo("b/hello.txt");
        assertThat(files.readString(root + "/a/link")).as("a read follows symlinks").isEqualTo("hello ✓");

        assertThat(files.list(root + "/a").stream().map(e -> e.name() + ":" + e.type()))
                .containsExactly("b:DIRECTORY", "link:SYMLINK");
        assertThat(files.list(root + "/a/b/")).extracting(FileEntry::path)
                .containsExactly(root + "/a/b/c", root + "/a/b/hello.txt");

        files.rename(root + "/a/b/hello.txt", root + "/moved.txt");
        assertThat(files.exists(root + "/moved.txt")).isTrue();
        assertThat(files.exists(root + "/a/b/hello.txt")).isFalse();
        assertThatThrownBy(() -> files.remove(root + "/a", false)).isInstanceOf(SmartVmException.class)
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        files.remove(root + "/a", true);
        assertThat(files.exists(root + "/a")).isFalse();
        assertThat(Path.of(root, "moved.txt")).exists();
    }

    @Test
    void badRequestsGetClearErrorsAndLeaveNothing() throws Exception {
        assertCode(() -> files.readBytes(root + "/missing"), ErrorCode.PATH_NOT_FOUND, "No such file");
        assertCode(() -> files.readBytes(root), ErrorCode.INVALID_ARGUMENT, "is a directory");
        assertCode(() -> files.stat(root + "/missing"), ErrorCode.PATH_NOT_FOUND, "missing");
        assertCode(() -> files.list(root + "/missing"), ErrorCode.PATH_NOT_FOUND, "missing");
        assertCode(() -> files.write(root + "/no/such/dir/f", new byte[1]), ErrorCode.PATH_NOT_FOUND, "no/such");
        assertCode(() -> files.write(root, new byte[1]), ErrorCode.INVALID_ARGUMENT, root);
        assertCode(() -> files.remove("/", true), ErrorCode.INVALID_ARGUMENT, "busy");
        assertCode(() -> files.watch(root + "/missing", false), ErrorCode.PATH_NOT_FOUND, "missing");
        Files.writeString(Path.of(root, "file"), "x");
        assertCode(() -> files.watch(root + "/file", false), ErrorCode.INVALID_ARGUMENT, "ot a directory");
        assertCode(() -> files.mkdirs(root + "/file/sub"), ErrorCode.INVALID_ARGUMENT, "file");
        assertCode(() -> files.stat("relative"), ErrorCode.INVALID_ARGUMENT, "absolute");
        try (var left = Files.list(Path.of(root))) {
            assertThat(left.map(p -> p.getFileName().toString())).as("no part files").containsExactly("file");
        }
    }

    @Test
    void aReadOverTheLimitIsRefusedAndTheConnectionGoesOn() throws Exception {
        Path f = Path.of(root, "huge");
        try (var raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(GuestFiles.MAX_READ + 1);
        }
        assertCode(() -> files.readBytes(f.toString()), ErrorCode.OUTPUT_TOO_LARGE, "copyFrom");
        assertThat(files.exists(f.toString())).isTrue();
    }

    @Test
    void watchesCreatesWritesRenamesAndDeletesRecursivelyUntilClosed() throws Exception {
        files.mkdirs(root + "/w");
        try (FileWatch w = files.watch(root + "/w", true)) {
            files.mkdirs(root + "/w/sub");
            expect(w, FileEvent.Kind.CREATED, root + "/w/sub", true);
            files.writeString(root + "/w/sub/new.txt", "1"); // written under a part name, then renamed
            List<FileEvent> seen = until(w, FileEvent.Kind.MOVED_TO, root + "/w/sub/new.txt");
            assertThat(seen).as("the part file's events came from the new subdirectory's own watch")
                    .anyMatch(e -> e.kind() == FileEvent.Kind.CREATED && e.path().startsWith(root + "/w/sub/"));
            Files.writeString(Path.of(root, "w/sub/new.txt"), "more", java.nio.file.StandardOpenOption.APPEND);
            until(w, FileEvent.Kind.MODIFIED, root + "/w/sub/new.txt");
            files.rename(root + "/w/sub/new.txt", root + "/w/renamed.txt");
            until(w, FileEvent.Kind.MOVED_FROM, root + "/w/sub/new.txt");
            expect(w, FileEvent.Kind.MOVED_TO, root + "/w/renamed.txt", false);
            files.remove(root + "/w/renamed.txt", false);
            expect(w, FileEvent.Kind.DELETED, root + "/w/renamed.txt", false);
            assertThat(w.isOpen()).isTrue();
        }
        try (FileWatch w = files.watch(root + "/w", false)) {
            files.remove(root + "/w", true);
            List<FileEvent> rest = new ArrayList<>();
            for (FileEvent e; (e = w.poll(T)) != null;) {
                rest.add(e);
            }
            assertThat(w.isOpen()).as("the watch ends with its directory").isFalse();
            assertThat(rest).anyMatch(e -> e.kind() == FileEvent.Kind.DELETED && e.path().equals(root + "/w/sub"));
        }
        assertThat(client.ping(T)).as("the session goes on").isNotNull();
    }

    private static void expect(FileWatch w, FileEvent.Kind kind, String path, boolean directory) {
        assertThat(w.poll(T)).isEqualTo(new FileEvent(kind, path, directory));
    }

    private static List<FileEvent> until(FileWatch w, FileEvent.Kind kind, String path) {
        List<FileEvent> seen = new ArrayList<>();
        for (FileEvent e; (e = w.poll(T)) != null;) {
            seen.add(e);
            if (e.kind() == kind && e.path().equals(path)) {
                return seen;
            }
        }
        throw new AssertionError("no " + kind + " of " + path + " among " + seen);
    }

    private static void assertCode(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, ErrorCode code, String detail) {
        assertThatThrownBy(call).isInstanceOf(SmartVmException.class).hasMessageContaining(detail)
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(code);
    }
}

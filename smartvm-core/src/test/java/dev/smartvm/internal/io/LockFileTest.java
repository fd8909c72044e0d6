package dev.smartvm.internal.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LockFileTest {
    @TempDir
    Path dir;

    @Test
    void onlyAFreeLockFileIsDeleted() throws Exception {
        Path lock = dir.resolve(".lock-x");
        try (LockFile held = LockFile.acquire(lock)) {
            boolean deleted = CompletableFuture.supplyAsync(() -> LockFile.deleteIfFree(lock), runnable -> new Thread(runnable).start())
                    .get(10, TimeUnit.SECONDS);
            assertThat(deleted).as("held by another thread").isFalse();
            assertThat(lock).exists();
        }
        assertThat(LockFile.isFree(lock)).isTrue();
        assertThat(LockFile.deleteIfFree(lock)).isTrue();
        assertThat(lock).doesNotExist();
        assertThat(LockFile.deleteIfFree(lock)).as("gone already").isFalse();
        assertThat(lock).as("and not made again").doesNotExist();
    }

    /**
     * A process waits for a lock with the file open; the holder deletes the file, a new one is
     * made at the path, and the holder lets go. The waiter must not hold the deleted file's lock,
     * which no one else can see, but the new file's.
     */
    @Test
    void aWaiterWhoseFileWasDeletedLocksTheFileNowAtThePath() throws Exception {
        Path lock = dir.resolve(".lock-y");
        Process child;
        try (LockFile held = LockFile.acquire(lock)) {
            child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), LockInChild.class.getName(), lock.toString())
                    .redirectErrorStream(true).start();
            while (!hasOpen(child.pid(), lock)) {
                assertThat(child.isAlive()).isTrue();
                Thread.sleep(10);
            }
            held.deleteFile();
            Files.writeString(lock, ""); // made again at once (as a next user's open would), before the waiter looks
        }
        try {
            assertThat(new String(child.getInputStream().readNBytes(7))).isEqualTo("locked\n");
            assertThat(LockFile.isFree(lock)).as("the waiter holds the lock of the file at the path").isFalse();
        } finally {
            child.destroyForcibly();
            child.waitFor();
        }
        assertThat(LockFile.isFree(lock)).isTrue();
    }

    private static boolean hasOpen(long pid, Path file) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(file);
                } catch (IOException e) {
                    return false;
                }
            });
        }
    }

    /** Takes the lock named by its argument, says so, and keeps it until killed. */
    public static final class LockInChild {
        public static void main(String[] args) throws Exception {
            LockFile.acquire(Path.of(args[0]));
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}

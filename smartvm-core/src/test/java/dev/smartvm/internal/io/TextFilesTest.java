package dev.smartvm.internal.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextFilesTest {
    @TempDir
    Path dir;

    @Test
    void theTailOfAFileLargerThanAnyHeapIsRead() throws Exception {
        Path log = dir.resolve("console.log");
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
            f.setLength(3L << 30); // 3 GiB, sparse: more than a Java array, let alone a small heap, can hold
            f.seek(f.length());
            f.write("first line cut\nsecond\nKernel panic - not syncing\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        assertThat(TextFiles.tail(log, 2)).containsExactly("second", "Kernel panic - not syncing");
    }

    @Test
    void aSmallFileIsReadWhole() throws Exception {
        Path log = Files.writeString(dir.resolve("small"), "a\nb\r\nc");
        assertThat(TextFiles.tail(log, 5)).containsExactly("a", "b", "c");
        assertThat(TextFiles.tail(log, 1)).containsExactly("c");
        assertThat(TextFiles.tail(dir.resolve("absent"), 3)).isEmpty();
    }

    @Test
    void aCutFirstLineIsDropped() throws Exception {
        String longLine = "x".repeat(TextFiles.MAX_TAIL_BYTES);
        Path log = Files.writeString(dir.resolve("long"), longLine + "\nlast\n");
        assertThat(TextFiles.tail(log, 10)).containsExactly("last");
    }

    @Test
    void aLineLongerThanTheTailIsGivenAsItsEnd() throws Exception {
        Path log = Files.writeString(dir.resolve("one-line"), "y".repeat(TextFiles.MAX_TAIL_BYTES * 2) + "END");
        assertThat(TextFiles.tail(log, 3)).hasSize(1).allSatisfy(l -> assertThat(l).endsWith("yyyEND"));
    }
}

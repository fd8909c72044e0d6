package dev.smartvm.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What comes out of a pod as tar is extracted under its target only, modes kept; anything else is refused. */
class PodFilesTest {
    @TempDir
    Path dir;

    /** A tar of entries: {name, kind (f, d, l symlink, h hard link), content or link target, mode}. */
    private static byte[] tar(String[]... entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (String[] e : entries) {
                TarArchiveEntry entry = switch (e[1]) {
                    case "d" -> new TarArchiveEntry(e[0] + "/");
                    case "l" -> new TarArchiveEntry(e[0], TarArchiveEntry.LF_SYMLINK);
                    case "h" -> new TarArchiveEntry(e[0], TarArchiveEntry.LF_LINK);
                    default -> new TarArchiveEntry(e[0]);
                };
                byte[] content = e[1].equals("f") ? e[2].getBytes(StandardCharsets.UTF_8) : new byte[0];
                if (e[1].equals("l") || e[1].equals("h")) {
                    entry.setLinkName(e[2]);
                }
                entry.setSize(content.length);
                entry.setMode(Integer.parseInt(e[3], 8));
                tar.putArchiveEntry(entry);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private long extract(byte[] tar, Path root) throws IOException {
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            return PodFiles.extract(in, "out", root);
        }
    }

    @Test
    void aTreeLandsUnderItsTargetWithItsModes() throws IOException {
        long bytes = extract(tar(new String[] {"out", "d", "", "755"}, new String[] {"out/run.sh", "f", "echo hi\n", "750"},
                new String[] {"out/sub", "d", "", "700"}, new String[] {"out/sub/link", "l", "../run.sh", "777"}), dir.resolve("copy"));
        assertThat(bytes).isEqualTo(8);
        assertThat(dir.resolve("copy/run.sh")).hasContent("echo hi");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("copy/run.sh")))).isEqualTo("rwxr-x---");
        assertThat(Files.readSymbolicLink(dir.resolve("copy/sub/link"))).isEqualTo(Path.of("../run.sh"));
    }

    @Test
    void escapesAreRefused() throws IOException {
        assertUnsafe(tar(new String[] {"out", "d", "", "755"}, new String[] {"out/../../evil", "f", "x", "644"}));
        assertUnsafe(tar(new String[] {"other/file", "f", "x", "644"}));
        assertUnsafe(tar(new String[] {"out", "d", "", "755"}, new String[] {"out/esc", "l", "/etc", "777"},
                new String[] {"out/esc/passwd", "f", "x", "644"}));
        assertUnsafe(tar(new String[] {"out", "d", "", "755"}, new String[] {"out/hard", "h", "/etc/passwd", "644"}));
        assertThat(dir.resolve("evil")).doesNotExist();
    }

    private void assertUnsafe(byte[] tar) {
        assertThatThrownBy(() -> extract(tar, dir.resolve("t" + System.nanoTime()))).isInstanceOfSatisfying(SmartVmException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSAFE_PATH));
    }

    @Test
    void guestPathsSplitAsCpDoes() {
        assertThat(PodFiles.parent("/tmp/x/")).isEqualTo("/tmp");
        assertThat(PodFiles.name("/tmp/x/")).isEqualTo("x");
        assertThat(PodFiles.parent("/x")).isEqualTo("/");
    }
}

package dev.smartvm.internal.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;
import org.junit.jupiter.api.Test;

class InitramfsTest {
    @Test
    void writesEntriesTheKernelCanUnpackWithParentsFirst() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Initramfs cpio = new Initramfs(bytes)) {
            cpio.file("usr/bin/tool", 0755, "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8));
            cpio.symlink("bin/sh", "/bin/busybox");
            cpio.charDevice("dev/console", 0600, 5, 1);
            cpio.directory("tmp", 01777);
        }
        Map<String, CpioArchiveEntry> entries = new LinkedHashMap<>();
        try (CpioArchiveInputStream in = new CpioArchiveInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            CpioArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                entries.put(e.getName(), e);
            }
        }
        assertThat(entries.keySet()).containsExactly("usr", "usr/bin", "usr/bin/tool", "bin", "bin/sh", "dev", "dev/console", "tmp");
        assertThat(entries.get("usr/bin/tool").getMode()).isEqualTo(CpioConstants.C_ISREG | 0755);
        assertThat(entries.get("bin/sh").getMode() & CpioConstants.S_IFMT).isEqualTo(CpioConstants.C_ISLNK);
        assertThat(entries.get("dev/console").getRemoteDeviceMaj()).isEqualTo(5);
        assertThat(entries.get("dev/console").getRemoteDeviceMin()).isEqualTo(1);
        assertThat(entries.get("tmp").getMode()).isEqualTo(CpioConstants.C_ISDIR | 01777);
    }
}

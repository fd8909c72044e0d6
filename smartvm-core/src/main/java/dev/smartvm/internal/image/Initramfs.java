package dev.smartvm.internal.image;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;

/** Writes a newc cpio archive (what the kernel unpacks as initramfs); parent dirs come first. */
final class Initramfs implements AutoCloseable {
    private final CpioArchiveOutputStream cpio;
    private final Set<String> dirs = new HashSet<>();

    Initramfs(OutputStream out) {
        this.cpio = new CpioArchiveOutputStream(out, CpioConstants.FORMAT_NEW);
    }

    void directory(String path, int mode) throws IOException {
        parents(path);
        if (dirs.add(path)) {
            write(path, CpioConstants.C_ISDIR | mode, new byte[0]);
        }
    }

    void file(String path, int mode, byte[] content) throws IOException {
        parents(path);
        write(path, CpioConstants.C_ISREG | mode, content);
    }

    void file(String path, int mode, Path source) throws IOException {
        file(path, mode, Files.readAllBytes(source));
    }

    void symlink(String path, String target) throws IOException {
        parents(path);
        write(path, CpioConstants.C_ISLNK | 0777, target.getBytes(StandardCharsets.UTF_8));
    }

    void charDevice(String path, int mode, int major, int minor) throws IOException {
        parents(path);
        CpioArchiveEntry e = entry(path, CpioConstants.C_ISCHR | mode, 0);
        e.setRemoteDeviceMaj(major);
        e.setRemoteDeviceMin(minor);
        cpio.putArchiveEntry(e);
        cpio.closeArchiveEntry();
    }

    private void parents(String path) throws IOException {
        int slash = path.lastIndexOf('/');
        if (slash > 0) {
            directory(path.substring(0, slash), 0755);
        }
    }

    private void write(String path, int mode, byte[] content) throws IOException {
        cpio.putArchiveEntry(entry(path, mode, content.length));
        cpio.write(content);
        cpio.closeArchiveEntry();
    }

    private static CpioArchiveEntry entry(String path, int mode, long size) {
        CpioArchiveEntry e = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, path, size);
        e.setMode(mode);
        e.setNumberOfLinks(1);
        e.setTime(0);
        return e;
    }

    @Override
    public void close() throws IOException {
        cpio.finish();
        cpio.close();
    }
}

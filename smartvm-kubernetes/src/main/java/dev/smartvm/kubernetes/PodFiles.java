package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExitStatus;
import dev.smartvm.SmartVmException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Files into and out of a pod as a tar stream over exec (the container's {@code tar}), with
 * {@code cp -r} semantics: into an existing directory, under the source's name; else as the
 * destination itself. Modes are kept. What comes out of a pod is hostile: an entry that would land
 * outside the target (an absolute path, {@code ..}, a write through a symlink, a hard link) is
 * refused with {@code UNSAFE_PATH}; devices and FIFOs are skipped.
 */
final class PodFiles {
    /** tar's record: 20 blocks of 512 bytes. */
    private static final int TAR_RECORD = 10240;

    private PodFiles() {
    }

    static long upload(PodGuest guest, Path source, String guestPath, Duration timeout) {
        requireAbsolute(guestPath);
        if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
            throw new SmartVmException(ErrorCode.PATH_NOT_FOUND, "no such file on the host: " + source);
        }
        boolean intoDir = guestSucceeds(guest, List.of("test", "-d", guestPath), timeout);
        String dir = intoDir ? guestPath : parent(guestPath);
        String root = intoDir ? source.getFileName().toString() : name(guestPath);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PodProcess p = guest.exec(List.of("tar", "-xf", "-", "-C", dir), true, timeout, OutputStream.nullOutputStream(), err)) {
            long bytes;
            // stdin stays open: tar stops at the archive's end, and closing stdin alone would end the whole exec (protocol v4)
            OutputStream keptOpen = new java.io.FilterOutputStream(p.stdin()) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    flush();
                }
            };
            // whole 10 KiB records: GNU tar reading a pipe waits for the rest of a record, and the stream does not end
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(keptOpen, TAR_RECORD)) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                bytes = write(tar, source, root);
            } catch (IOException e) {
                throw new SmartVmException(ErrorCode.IO_ERROR, "cannot send " + source + " to the pod: " + e.getMessage(), e);
            }
            ExitStatus status = p.waitFor(timeout);
            if (status.code() != 0) {
                throw new SmartVmException(ErrorCode.AGENT_ERROR, "tar in the pod could not write " + guestPath + ": "
                        + err.toString().strip());
            }
            return bytes;
        }
    }

    private static long write(TarArchiveOutputStream tar, Path file, String name) throws IOException {
        if (Files.isSymbolicLink(file)) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
            e.setLinkName(Files.readSymbolicLink(file).toString());
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
            return 0;
        }
        TarArchiveEntry e = new TarArchiveEntry(file, name);
        e.setMode(mode(file) | (Files.isDirectory(file) ? 040000 : 0100000));
        tar.putArchiveEntry(e);
        long bytes = 0;
        if (Files.isRegularFile(file)) {
            bytes = Files.copy(file, tar);
        }
        tar.closeArchiveEntry();
        if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> children = Files.list(file)) {
                for (Path child : children.sorted().toList()) {
                    bytes += write(tar, child, name + "/" + child.getFileName());
                }
            }
        }
        return bytes;
    }

    static long download(PodGuest guest, String guestPath, Path target, Duration timeout) {
        requireAbsolute(guestPath);
        boolean intoDir = Files.isDirectory(target);
        Path root = intoDir ? target.resolve(name(guestPath)) : target;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PodProcess p = guest.exec(List.of("tar", "-cf", "-", "-C", parent(guestPath), name(guestPath)), false, timeout,
                null, err)) {
            long bytes;
            try (TarArchiveInputStream tar = new TarArchiveInputStream(p.stdout())) {
                bytes = extract(tar, name(guestPath), root);
            } catch (IOException e) {
                throw new SmartVmException(ErrorCode.IO_ERROR, "cannot read " + guestPath + " from the pod: " + e.getMessage(), e);
            }
            ExitStatus status = p.waitFor(timeout);
            if (status.code() != 0) {
                String why = err.toString().strip();
                throw new SmartVmException(why.contains("No such file") || why.contains("not found") || why.contains("Cannot stat")
                        ? ErrorCode.PATH_NOT_FOUND : ErrorCode.AGENT_ERROR, "tar in the pod could not read " + guestPath + ": " + why);
            }
            return bytes;
        }
    }

    /** Extracts entries named {@code top} or {@code top/...} as {@code root} and below it. */
    static long extract(TarArchiveInputStream tar, String top, Path root) throws IOException {
        long bytes = 0;
        Path base = root.toAbsolutePath().normalize();
        TarArchiveEntry e;
        while ((e = tar.getNextEntry()) != null) {
            String name = e.getName().endsWith("/") ? e.getName().substring(0, e.getName().length() - 1) : e.getName();
            if (name.startsWith("./")) {
                name = name.substring(2);
            }
            String rest;
            if (name.equals(top)) {
                rest = "";
            } else if (name.startsWith(top + "/")) {
                rest = name.substring(top.length() + 1);
            } else {
                throw unsafe(e.getName(), "outside " + top);
            }
            if (rest.startsWith("/") || List.of(rest.split("/")).contains("..")) {
                throw unsafe(e.getName(), "an absolute path or '..'");
            }
            Path out = rest.isEmpty() ? base : base.resolve(rest).normalize();
            if (!out.startsWith(base)) {
                throw unsafe(e.getName(), "outside the target");
            }
            for (Path p = out.getParent(); p != null && p.startsWith(base); p = p.getParent()) {
                if (Files.isSymbolicLink(p)) {
                    throw unsafe(e.getName(), "it would be written through the symlink " + p);
                }
            }
            if (e.isLink()) {
                throw unsafe(e.getName(), "a hard link");
            }
            if (e.isDirectory()) {
                Files.createDirectories(out);
                Files.setPosixFilePermissions(out, permissions(e.getMode() | 0700));
            } else if (e.isSymbolicLink()) {
                Files.createDirectories(out.getParent());
                Files.deleteIfExists(out);
                Files.createSymbolicLink(out, Path.of(e.getLinkName()));
            } else if (e.isFile()) {
                Files.createDirectories(out.getParent());
                if (Files.isSymbolicLink(out)) {
                    throw unsafe(e.getName(), "it would be written through a symlink");
                }
                bytes += Files.copy(tar, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(out, permissions(e.getMode()));
            }
        }
        return bytes;
    }

    private static boolean guestSucceeds(PodGuest guest, List<String> argv, Duration timeout) {
        try (PodProcess p = guest.exec(argv, false, timeout, OutputStream.nullOutputStream(), OutputStream.nullOutputStream())) {
            return p.waitFor(timeout).code() == 0;
        }
    }

    private static int mode(Path file) throws IOException {
        int mode = 0;
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        for (PosixFilePermission p : PosixFilePermission.values()) {
            if (perms.contains(p)) {
                mode |= 1 << (8 - p.ordinal());
            }
        }
        return mode;
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission p : PosixFilePermission.values()) {
            if ((mode & (1 << (8 - p.ordinal()))) != 0) {
                perms.add(p);
            }
        }
        return perms;
    }

    private static void requireAbsolute(String guestPath) {
        if (guestPath == null || !guestPath.startsWith("/") || guestPath.equals("/")) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a guest path must be absolute (and not /); found '" + guestPath + "'");
        }
    }

    static String parent(String guestPath) {
        String p = guestPath.replaceAll("/+$", "");
        int slash = p.lastIndexOf('/');
        return slash <= 0 ? "/" : p.substring(0, slash);
    }

    static String name(String guestPath) {
        String p = guestPath.replaceAll("/+$", "");
        return p.substring(p.lastIndexOf('/') + 1);
    }

    private static SmartVmException unsafe(String entry, String why) {
        return new SmartVmException(ErrorCode.UNSAFE_PATH, "the pod sent '" + entry + "', which is " + why + "; nothing more was written");
    }
}

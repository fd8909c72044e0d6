package dev.smartvm.internal.image;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/** An image layer for tests, as registries serve them: a tar, gzip-compressed or not. */
public final class TestLayer {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar;

    public TestLayer(boolean gzip) throws IOException {
        OutputStream out = gzip ? new GzipCompressorOutputStream(bytes) : bytes;
        tar = new TarArchiveOutputStream(out);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    }

    public TestLayer dir(String name, int mode) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
        e.setMode(040000 | mode);
        return put(e, null);
    }

    public TestLayer file(String name, int mode, String content, int uid, int gid) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(0100000 | mode);
        e.setIds(uid, gid);
        return put(e, content.getBytes(StandardCharsets.UTF_8));
    }

    public TestLayer file(String name, int mode, byte[] content) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(0100000 | mode);
        return put(e, content);
    }

    public TestLayer file(String name, String content) throws IOException {
        return file(name, 0644, content, 0, 0);
    }

    public TestLayer symlink(String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
        e.setLinkName(target);
        return put(e, null);
    }

    public TestLayer hardlink(String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK);
        e.setLinkName(target);
        return put(e, null);
    }

    /** An entry whose name is kept as given (an absolute one too). */
    public TestLayer raw(String name, Consumer<TarArchiveEntry> edit) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        e.setMode(0100644);
        edit.accept(e);
        return put(e, new byte[0]);
    }

    private TestLayer put(TarArchiveEntry e, byte[] content) throws IOException {
        if (content != null) {
            e.setSize(content.length);
        }
        tar.putArchiveEntry(e);
        if (content != null) {
            tar.write(content);
        }
        tar.closeArchiveEntry();
        return this;
    }

    /** The layer's bytes (the tar is finished on the first call). */
    public byte[] bytes() throws IOException {
        tar.close();
        return bytes.toByteArray();
    }

}

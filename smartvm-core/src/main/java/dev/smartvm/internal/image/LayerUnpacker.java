package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.HostUser;
import dev.smartvm.internal.io.FileTrees;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Applies OCI image layers, in order, to a directory that becomes a root filesystem: whiteouts
 * ({@code .wh.NAME} deletes NAME from the layers below, {@code .wh..wh..opq} empties a directory
 * of them), hard links, symlinks, modes (setuid included), owners when running as root, and
 * modification times. A layer is untrusted: an entry that would land outside the root (through
 * {@code ..}, an absolute name, a symlink in its path, or a hard link to outside) is refused,
 * and so is a relative symlink whose target climbs above the root.
 */
public final class LayerUnpacker {
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";
    private static final boolean ROOT = HostUser.isRoot();

    private final Path root;

    public LayerUnpacker(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** Applies one layer (a tar, gzip-compressed or not); {@code name} labels errors (e.g. its digest). */
    public void apply(InputStream layer, String name) {
        try (InputStream in = decompressed(new BufferedInputStream(layer), name);
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            Set<Path> ofThisLayer = new HashSet<>();
            List<TarArchiveEntry> dirs = new ArrayList<>();
            List<Path> dirPaths = new ArrayList<>();
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path target = inside(e.getName(), name);
                if (target.equals(root)) {
                    continue; // "./": the root's own attributes stay ours
                }
                String base = target.getFileName().toString();
                noSymlinkAbove(target, e.getName(), name);
                if (base.equals(OPAQUE)) {
                    emptyOfLowerLayers(target.getParent(), ofThisLayer);
                    continue;
                }
                if (base.startsWith(WHITEOUT)) {
                    Path gone = target.resolveSibling(base.substring(WHITEOUT.length()));
                    if (!ofThisLayer.contains(gone)) {
                        FileTrees.delete(gone);
                    }
                    continue;
                }
                ofThisLayer.add(target);
                if (e.isDirectory()) {
                    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                        Files.delete(target);
                    }
                    Files.createDirectories(target);
                    dirs.add(e);
                    dirPaths.add(target);
                    continue; // attributes at the end: a read-only directory must still receive its entries
                }
                replaceable(target);
                if (e.isSymbolicLink()) {
                    String link = e.getLinkName();
                    if (!link.startsWith("/") && !target.getParent().resolve(link).normalize().startsWith(root)) {
                        throw unsafe(name, "symlink " + e.getName() + " -> " + link + " points outside the image");
                    }
                    Files.createSymbolicLink(target, Path.of(link));
                    owner(target, e); // a symlink's mode and time are not its own to set
                    continue;
                } else if (e.isLink()) {
                    Path source = inside(e.getLinkName(), name);
                    noSymlinkAbove(source, e.getLinkName(), name);
                    if (!Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
                        throw unsafe(name, "hard link " + e.getName() + " -> " + e.getLinkName() + " names no regular file of the image");
                    }
                    Files.createLink(target, source);
                    continue; // a hard link shares its source's attributes
                } else if (e.isFile()) {
                    Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
                } else {
                    continue; // devices and fifos are made by the guest's devtmpfs, not by images
                }
                attributes(target, e);
            }
            for (int i = dirs.size() - 1; i >= 0; i--) {
                attributes(dirPaths.get(i), dirs.get(i));
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "cannot unpack layer " + name + ": " + e.getMessage(), e);
        }
    }

    private static InputStream decompressed(BufferedInputStream in, String name) throws IOException {
        in.mark(4);
        int b0 = in.read();
        int b1 = in.read();
        int b2 = in.read();
        int b3 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return new GzipCompressorInputStream(in, true);
        }
        if (b0 == 0x28 && b1 == 0xb5 && b2 == 0x2f && b3 == 0xfd) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "layer " + name
                    + " is zstd-compressed, which SmartVM does not unpack yet (gzip and plain tar are supported)");
        }
        return in;
    }

    /** The path of a tar entry under the root; names that climb out or are absolute are refused. */
    private Path inside(String entryName, String layer) {
        String n = entryName;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        if (n.startsWith("/")) {
            throw unsafe(layer, "entry " + entryName + " has an absolute name");
        }
        for (String part : n.split("/")) {
            if (part.equals("..")) {
                throw unsafe(layer, "entry " + entryName + " climbs out of the image with '..'");
            }
        }
        Path p = root.resolve(n).normalize();
        if (!p.startsWith(root)) {
            throw unsafe(layer, "entry " + entryName + " lands outside the image");
        }
        return p;
    }

    /** Refuses a path whose existing parents include a symlink: writing there could land anywhere. */
    private void noSymlinkAbove(Path target, String entryName, String layer) {
        for (Path p = target.getParent(); p != null && !p.equals(root); p = p.getParent()) {
            if (Files.isSymbolicLink(p)) {
                throw unsafe(layer, "entry " + entryName + " goes through the symlink " + root.relativize(p));
            }
        }
    }

    /** Makes way for a non-directory entry: what the layers below had there goes. */
    private static void replaceable(Path target) throws IOException {
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            FileTrees.delete(target);
        } else {
            Files.deleteIfExists(target);
        }
        Files.createDirectories(target.getParent());
    }

    private static void emptyOfLowerLayers(Path dir, Set<Path> ofThisLayer) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> children;
        try (Stream<Path> s = Files.list(dir)) {
            children = s.toList();
        }
        for (Path c : children) {
            if (!ofThisLayer.contains(c)) {
                FileTrees.delete(c);
            }
        }
    }

    private static void attributes(Path p, TarArchiveEntry e) throws IOException {
        owner(p, e);
        Files.setAttribute(p, "unix:mode", e.getMode() & 07777);
        Files.setLastModifiedTime(p, FileTime.from(e.getModTime().toInstant()));
    }

    /** Owners are kept when we may set them (as root); otherwise the files stay ours. */
    private static void owner(Path p, TarArchiveEntry e) throws IOException {
        if (ROOT) {
            Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
        }
    }

    private static SmartVmException unsafe(String layer, String why) {
        return new SmartVmException(ErrorCode.UNSAFE_PATH, "layer " + layer + ": " + why);
    }
}

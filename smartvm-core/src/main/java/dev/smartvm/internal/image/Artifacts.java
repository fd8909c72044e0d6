package dev.smartvm.internal.image;

import dev.smartvm.DownloadListener;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Downloads;
import dev.smartvm.internal.io.Hashing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The files of a base image's manifest: fetched or copied, and checked against the manifest. */
final class Artifacts {
    private Artifacts() {
    }

    /** Copies or downloads one artifact to {@code target} and checks its size and sha256. */
    static Path obtain(HostedManifest.Artifact a, Path target, String sha, DownloadListener downloads) {
        String from = a.url() != null ? a.url().toString() : a.path().toString();
        if (a.url() != null) {
            Downloads.get(a.url(), target, "", downloads);
        } else {
            try {
                Files.copy(a.path(), target, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new SmartVmException(ErrorCode.PATH_NOT_FOUND, "cannot copy base image file " + from + ": " + e, e);
            }
        }
        try {
            long size = Files.size(target);
            if (a.sizeBytes() != null && size != a.sizeBytes()) {
                throw new SmartVmException(ErrorCode.CHECKSUM_MISMATCH, from + " has " + size + " bytes; the manifest says "
                        + a.sizeBytes());
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot read " + target + ": " + e.getMessage(), e);
        }
        String actual = Hashing.sha256(target);
        if (!actual.equals(sha)) {
            throw new SmartVmException(ErrorCode.CHECKSUM_MISMATCH, from + " has sha256 " + actual + "; the manifest says " + sha);
        }
        return target;
    }

    static String localSha(HostedManifest.Artifact a) {
        if (!Files.isRegularFile(a.path())) {
            throw new SmartVmException(ErrorCode.PATH_NOT_FOUND, "base image file " + a.path() + " does not exist");
        }
        return Hashing.sha256(a.path());
    }

    /** What changes when a file is replaced or written: its size and modification time. */
    static String stamp(Path file) {
        try {
            return Files.size(file) + ":" + Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return "missing";
        }
    }

}

package dev.smartvm.internal.vm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * What the watchdog reads of a VM's time limits that is not in its spec, each in a small file of
 * its own in the VM's directory, not in its record (which the owning process rewrites from memory):
 * {@code expires-at}, when its lifetime ends (set at each start, and by {@code smartvm ttl} from any
 * process), {@code idle-paused}, there while a VM the watchdog paused for idleness waits for its
 * next call to resume it, and {@code called}, whose time is when the last call of a VM that pauses
 * when idle began (so that the watchdog never leaves a request on its way waiting on a paused guest).
 */
final class Expiry {
    static final String EXPIRES_AT = "expires-at";
    static final String IDLE_PAUSED = "idle-paused";
    static final String CALLED = "called";

    private Expiry() {
    }

    static Optional<Instant> read(Path vmDir) {
        try {
            return Optional.of(Instant.parse(Files.readString(vmDir.resolve(EXPIRES_AT), StandardCharsets.US_ASCII).trim()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | DateTimeParseException e) {
            return Optional.empty(); // unreadable: as if none was set (the next start or `smartvm ttl` writes it again)
        }
    }

    /** Sets the end of the VM's lifetime (null: none). */
    static void write(Path vmDir, Instant at) {
        try {
            if (at == null) {
                Files.deleteIfExists(vmDir.resolve(EXPIRES_AT));
            } else {
                AtomicFiles.replace(vmDir.resolve(EXPIRES_AT), (at + "\n").getBytes(StandardCharsets.US_ASCII));
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write the end of the VM's lifetime in " + vmDir + ": "
                    + e.getMessage(), e);
        }
    }

    /** Notes that a call begins ({@code called}'s modification time, set to now). */
    static void noteCall(Path vmDir) {
        Path file = vmDir.resolve(CALLED);
        try {
            try {
                Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
            } catch (NoSuchFileException e) {
                Files.write(file, new byte[0]);
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot note a call in " + vmDir + ": " + e.getMessage(), e);
        }
    }

    /** When the last call began; empty before the first. */
    static Optional<FileTime> lastCall(Path vmDir) {
        try {
            return Optional.of(Files.getLastModifiedTime(vmDir.resolve(CALLED)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static boolean idlePaused(Path vmDir) {
        return Files.exists(vmDir.resolve(IDLE_PAUSED));
    }

    static void markIdlePaused(Path vmDir, boolean paused) {
        try {
            if (paused) {
                AtomicFiles.replace(vmDir.resolve(IDLE_PAUSED), new byte[0]);
            } else {
                Files.deleteIfExists(vmDir.resolve(IDLE_PAUSED));
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot mark VM in " + vmDir + " as paused for idleness: "
                    + e.getMessage(), e);
        }
    }
}

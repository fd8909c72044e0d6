package dev.smartvm.internal.smolvm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Hashing;
import dev.smartvm.internal.io.PartialDir;
import dev.smartvm.internal.io.Sweep;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Images packed on the host ({@code smolvm pack create}) for machines without a network: smolvm
 * pulls an image from inside the machine, which needs egress, so such a machine is made from a
 * pack instead ({@code machine create --from}). One pack per image reference, in
 * {@code <home>/smolvm-packs/<hash>/}, made whole or not at all (packed into a hidden
 * {@link PartialDir} that then takes its name); packs are a cache, reused by every machine of the image.
 */
final class SmolvmPacks {
    static final String DIR = "smolvm-packs";

    private SmolvmPacks() {
    }

    /** {@code machine} made from its image's pack, which is packed now if it is not yet. */
    static MachineSpec packed(SmolvmCli cli, MachineSpec machine, Path vmDir) {
        Path packs = vmDir.toAbsolutePath().getParent().resolveSibling(DIR);
        Path dir = packs.resolve(Hashing.sha256(machine.image().getBytes(StandardCharsets.UTF_8)).substring(0, 16));
        Path sidecar = dir.resolve("image.smolmachine");
        if (!Files.isRegularFile(sidecar)) {
            pack(cli, machine.image(), packs, dir);
        }
        return new MachineSpec(machine.name(), null, sidecar.toString(), machine.cpus(), machine.memoryMib(), false,
                machine.allowCidrs(), machine.allowHosts(), machine.env(), null, machine.volumes(), machine.ports(), machine.command());
    }

    private static void pack(SmolvmCli cli, String image, Path packs, Path dir) {
        try (PartialDir partial = PartialDir.make(packs)) { // removed on the way out unless moved into place
            cli.packCreate(image, partial.path().resolve("image"));
            try {
                Files.move(partial.path(), dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                // another start packed the same image meanwhile: its pack is as good
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot keep the smolvm pack of " + image + " in " + packs + ": "
                    + e.getMessage(), e);
        }
    }

    /** Packs half made by a process that died (their lock free), for {@code gc}; {@code packs} is the home's {@value #DIR}. */
    static void sweepPartials(Path packs, Sweep sweep) {
        PartialDir.sweep(packs, sweep, "a smolvm pack whose maker died before it was made",
                "the lock of a smolvm pack no longer being made", p -> { });
    }
}

package dev.smartvm.internal.smolvm;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.internal.io.Hashing;
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
 * directory that then takes its name); packs are a cache, reused by every machine of the image.
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
        Path partial = null;
        try {
            Files.createDirectories(packs);
            partial = Files.createTempDirectory(packs, ".partial-");
            cli.packCreate(image, partial.resolve("image"));
            try {
                Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                // another start packed the same image meanwhile: its pack is as good
            }
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot keep the smolvm pack of " + image + " in " + packs + ": "
                    + e.getMessage(), e);
        } finally {
            if (partial != null) {
                FileTrees.deleteQuietly(partial);
            }
        }
    }
}

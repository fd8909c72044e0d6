package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where a VM's pod is, in its VM directory ({@code kubernetes-pod}: namespace and name, a line
 * each), so that another process (the CLI) attaches to it, and the reaper deletes it.
 */
record PodRef(String namespace, String name) {
    static final String FILE = "kubernetes-pod";

    static void write(Path vmDir, String namespace, String name) {
        try {
            Path tmp = vmDir.resolve(FILE + ".tmp");
            Files.writeString(tmp, namespace + "\n" + name + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, vmDir.resolve(FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot record the VM's pod in " + vmDir + ": " + e.getMessage(), e);
        }
    }

    static Optional<PodRef> read(Path vmDir) {
        try {
            List<String> lines = Files.readAllLines(vmDir.resolve(FILE), StandardCharsets.UTF_8);
            return lines.size() >= 2 ? Optional.of(new PodRef(lines.get(0), lines.get(1))) : Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot read the VM's pod from " + vmDir + ": " + e.getMessage(), e);
        }
    }
}

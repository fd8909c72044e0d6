package dev.smartvm;

import dev.smartvm.backend.firecracker.FakeFirecracker;
import dev.smartvm.backend.firecracker.FirecrackerBackend;
import dev.smartvm.backend.firecracker.FirecrackerRelease;
import dev.smartvm.config.FieldSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The backend contract on the Firecracker backend, against the fake Firecracker (the real one
 * cannot run here): the backend's real code spawns it, configures it over its API, and reaches
 * the agent through its hybrid vsock.
 */
class FirecrackerBackendContractTest extends BackendContract {
    private Path image;

    @Override
    protected String backend() {
        return "firecracker";
    }

    @Override
    protected SmartVm.Builder configure(SmartVm.Builder builder) throws IOException {
        Path bin = Files.createDirectories(home.resolve("bin"));
        Path fc = FakeFirecracker.install(bin);
        return builder.backend(new FirecrackerBackend(() -> new FirecrackerRelease.Binaries(fc, bin.resolve("jailer")), null,
                FieldSupport.load()));
    }

    /** An x86-64 ELF header: all the fake looks at in a kernel. The agent is what runs. */
    @Override
    protected String image() throws IOException {
        if (image == null) {
            image = Files.createDirectories(home.resolve("fake-image"));
            byte[] elf = new byte[4096];
            elf[0] = 0x7f;
            elf[1] = 'E';
            elf[2] = 'L';
            elf[3] = 'F';
            elf[4] = 2; // 64-bit
            elf[18] = 62; // EM_X86_64
            Files.write(image.resolve("vmlinuz"), elf);
            Files.write(image.resolve("initramfs.cpio"), new byte[512]);
            Files.writeString(image.resolve("image.json"), "{\"id\":\"fake\",\"kernelPackage\":\"none\",\"kernelVersion\":\"0\","
                    + "\"busyboxVersion\":\"0\",\"agentSha256\":\"0\",\"modules\":[]}");
        }
        return image.toString();
    }
}

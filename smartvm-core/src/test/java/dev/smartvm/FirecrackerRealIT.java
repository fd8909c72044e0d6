package dev.smartvm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.smartvm.internal.firecracker.FirecrackerBackend;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;

/**
 * The backend contract on the real Firecracker with the default image: runs where a firecracker
 * binary ($SMARTVM_FIRECRACKER or the PATH) and a usable /dev/kvm are both present, and is
 * skipped, saying which is missing, everywhere else (as on our CI machines).
 */
@Tag("integration")
class FirecrackerRealIT extends BackendContract {
    @Override
    protected String backend() {
        return "firecracker";
    }

    static String missing() {
        Path kvm = Path.of("/dev/kvm");
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            return "no usable /dev/kvm";
        }
        if (Files.isDirectory(Path.of("/sys/module/kvm_pvm"))) {
            return "KVM here is nested PVM, on which stock guest kernels hang";
        }
        String configured = System.getenv("SMARTVM_FIRECRACKER");
        if (configured != null && Files.isExecutable(Path.of(configured))) {
            return null;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "firecracker"))) {
                return null;
            }
        }
        return "no firecracker binary (set SMARTVM_FIRECRACKER or put it on the PATH)";
    }

    @Override
    protected SmartVm.Builder configure(SmartVm.Builder builder) {
        String missing = missing();
        assumeTrue(missing == null, () -> "real Firecracker tests skipped: " + missing);
        return builder.imagesDir(RealVmTest.sharedImages()).backend(FirecrackerBackend.fromEnvironment(home.resolve("fc"), m -> { }));
    }

    @Override
    protected String image() {
        return "default";
    }
}

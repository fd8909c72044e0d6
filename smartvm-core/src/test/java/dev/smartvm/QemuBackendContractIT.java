package dev.smartvm;

import org.junit.jupiter.api.Tag;

/** The backend contract on real QEMU microVMs. */
@Tag("integration")
@EnabledIfQemuAvailable
class QemuBackendContractIT extends BackendContract {
    @Override
    protected String backend() {
        return "qemu";
    }

    @Override
    protected SmartVm.Builder configure(SmartVm.Builder builder) {
        return builder.imagesDir(RealVmTest.sharedImages());
    }

    @Override
    protected String image() {
        return "default";
    }
}

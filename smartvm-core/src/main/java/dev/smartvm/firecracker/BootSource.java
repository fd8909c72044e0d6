package dev.smartvm.firecracker;

import java.util.Map;

/** The kernel, an optional initrd and the kernel command line ({@code PUT /boot-source}). */
public record BootSource(String kernelImagePath, String initrdPath, String bootArgs) implements ApiObject {
    void validate(Validation v) {
        v.check(kernelImagePath != null && !kernelImagePath.isBlank(), "bootSource.kernelImagePath is required");
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("kernel_image_path", kernelImagePath).put("initrd_path", initrdPath)
                .put("boot_args", bootArgs).build();
    }
}

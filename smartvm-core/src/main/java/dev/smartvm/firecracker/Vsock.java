package dev.smartvm.firecracker;

import java.util.Map;

/** The vsock device; host connections go through the Unix socket {@code udsPath} ({@code PUT /vsock}). */
public record Vsock(int guestCid, String udsPath) implements ApiObject {
    /** CIDs 0 to 2 are reserved (hypervisor, local, host). */
    public static final int MIN_GUEST_CID = 3;

    void validate(Validation v) {
        v.check(guestCid >= MIN_GUEST_CID, "vsock.guestCid must be >= " + MIN_GUEST_CID + "; found " + guestCid);
        v.check(udsPath != null && !udsPath.isBlank(), "vsock.udsPath is required");
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("guest_cid", guestCid).put("uds_path", udsPath).build();
    }
}

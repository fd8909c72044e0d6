package dev.smartvm.firecracker;

import java.util.Map;
import java.util.regex.Pattern;

/** A virtio-net device backed by a host TAP ({@code PUT /network-interfaces/{iface_id}}). */
public record NetworkInterface(String ifaceId, String hostDevName, String guestMac, Integer mtu, RateLimiter rxRateLimiter,
        RateLimiter txRateLimiter) implements ApiObject {
    /** Linux interface names are at most 15 bytes (IFNAMSIZ - 1). */
    public static final int MAX_TAP_NAME = 15;
    private static final Pattern MAC = Pattern.compile("([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}");

    public static NetworkInterface of(String ifaceId, String hostDevName, String guestMac) {
        return new NetworkInterface(ifaceId, hostDevName, guestMac, null, null, null);
    }

    void validate(String field, Validation v) {
        v.id(field + ".ifaceId", ifaceId);
        v.check(hostDevName != null && !hostDevName.isEmpty() && hostDevName.length() <= MAX_TAP_NAME
                        && hostDevName.chars().noneMatch(c -> c == '/' || c <= ' '),
                field + ".hostDevName must be 1 to " + MAX_TAP_NAME + " characters without '/' or spaces; found '"
                        + hostDevName + "'");
        if (guestMac != null) {
            boolean wellFormed = MAC.matcher(guestMac).matches();
            v.check(wellFormed, field + ".guestMac must look like 02:aa:bb:cc:dd:ee; found '" + guestMac + "'");
            v.check(!wellFormed || (Integer.parseInt(guestMac.substring(0, 2), 16) & 1) == 0,
                    field + ".guestMac must not be a multicast address; found '" + guestMac + "'");
        }
        v.check(mtu == null || mtu >= 68 && mtu <= 65535, field + ".mtu must be between 68 and 65535; found " + mtu);
        if (rxRateLimiter != null) {
            rxRateLimiter.validate(field + ".rxRateLimiter", v);
        }
        if (txRateLimiter != null) {
            txRateLimiter.validate(field + ".txRateLimiter", v);
        }
    }

    @Override
    public Map<String, Object> toPayload() {
        return Payloads.object().put("iface_id", ifaceId).put("host_dev_name", hostDevName).put("guest_mac", guestMac)
                .put("mtu", mtu).put("rx_rate_limiter", rxRateLimiter == null ? null : rxRateLimiter.toPayload())
                .put("tx_rate_limiter", txRateLimiter == null ? null : txRateLimiter.toPayload()).build();
    }
}

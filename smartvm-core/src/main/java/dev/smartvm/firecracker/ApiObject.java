package dev.smartvm.firecracker;

import java.util.Map;

/** A configuration record that is sent to Firecracker as one JSON object. */
interface ApiObject {
    Map<String, Object> toPayload();
}

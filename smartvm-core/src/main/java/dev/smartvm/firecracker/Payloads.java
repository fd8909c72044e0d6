package dev.smartvm.firecracker;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds Firecracker request bodies: snake_case names exactly as the API spec, null values left out. */
public final class Payloads {
    private final Map<String, Object> body = new LinkedHashMap<>();

    public static Payloads object() {
        return new Payloads();
    }

    /** Firecracker refuses null for plain fields, so an absent value is never sent. */
    public Payloads put(String name, Object value) {
        if (value != null) {
            body.put(name, value);
        }
        return this;
    }

    public Map<String, Object> build() {
        return Collections.unmodifiableMap(body);
    }
}

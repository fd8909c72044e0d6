package dev.smartvm.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds Firecracker request bodies: snake_case names exactly as the API spec, null values left out. */
final class Payloads {
    private final Map<String, Object> body = new LinkedHashMap<>();

    static Payloads object() {
        return new Payloads();
    }

    /** Firecracker refuses null for plain fields, so an absent value is never sent. */
    Payloads put(String name, Object value) {
        if (value != null) {
            body.put(name, value);
        }
        return this;
    }

    Map<String, Object> build() {
        return Collections.unmodifiableMap(body);
    }
}

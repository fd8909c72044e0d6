package dev.smartvm.spi;

import java.nio.file.Path;

/**
 * Makes an engine that lives in a jar of its own (the {@code kubernetes} backend), found with
 * {@link java.util.ServiceLoader}: a jar on the class path lists its provider in
 * {@code META-INF/services/dev.smartvm.spi.BackendProvider}, a module {@code provides} it. Every
 * {@code SmartVm} registers the backends of the providers it finds, after QEMU, Firecracker and
 * smolvm; one the builder names ({@code SmartVm.Builder.backend}) replaces a provided one of its name.
 */
public interface BackendProvider {
    /** The engine, for the SmartVM home {@code home} (where it may keep state of its own). */
    Backend create(Path home);
}

package dev.smartvm.kubernetes;

import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BackendProvider;
import java.nio.file.Path;

/** Registers the {@code kubernetes} backend with every SmartVm that finds this jar (a {@link java.util.ServiceLoader} provider). */
public final class KubernetesProvider implements BackendProvider {
    @Override
    public Backend create(Path home) {
        return KubernetesBackend.fromEnvironment();
    }
}

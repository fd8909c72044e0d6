package dev.smartvm.spi;

import java.util.Objects;

/**
 * Something an engine keeps outside SmartVM's home that no live owner holds (a Kubernetes pod
 * whose owner's Lease ran out), as {@link Backend#leftovers} finds it for {@code smartvm gc}.
 *
 * @param name which one (the engine's own name for it)
 * @param reason why nothing holds it
 * @param remove deletes it
 */
public record EngineLeftover(String name, String reason, Runnable remove) {
    public EngineLeftover {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(remove, "remove");
    }
}

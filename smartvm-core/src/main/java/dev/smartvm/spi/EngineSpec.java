package dev.smartvm.spi;

import java.util.List;

/**
 * What a VM asks of an engine that pulls its own images and makes its own network (smolvm),
 * as the user wrote it: SmartVM neither resolves the image nor attaches the VM to its bridge.
 *
 * @param imageRef the image reference (an OCI reference for smolvm)
 * @param network whether the VM has a network
 * @param allow egress allow-list ({@code CIDR|IP|HOST[:PORT]})
 * @param deny egress deny-list
 * @param publish published ports ({@code [ADDR:]HOST:GUEST[/udp]})
 */
public record EngineSpec(String imageRef, boolean network, List<String> allow, List<String> deny, List<String> publish) {
    public EngineSpec {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        publish = List.copyOf(publish);
    }
}

package dev.smartvm.internal.net;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.smartvm.internal.io.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The egress rules each attached VM runs with now and their generation ({@code egress.json} in
 * host networking's state, read and written under the host lock): what a process that changes a
 * VM's rules writes, and what every process keeping its hostnames resolved checks, so that pins
 * of replaced rules stop instead of writing old addresses into the new rules' sets.
 */
final class EgressStates {
    /** One VM's rules as given (hostnames unresolved) and the generation of its nft rules ({@link NftRules#mark}). */
    record Entry(List<String> allow, List<String> deny, int generation) {
        Entry {
            allow = List.copyOf(allow);
            deny = List.copyOf(deny);
        }

        static Entry of(EgressPolicy policy, int generation) {
            return new Entry(policy.allow().stream().map(EgressRule::text).toList(),
                    policy.deny().stream().map(EgressRule::text).toList(), generation);
        }

        boolean sameRules(EgressPolicy policy) {
            Entry other = of(policy, generation);
            return allow.equals(other.allow) && deny.equals(other.deny);
        }
    }

    private final Path file;

    EgressStates(Path stateDir) {
        this.file = stateDir.resolve("egress.json");
    }

    Optional<Entry> get(String vmId) {
        return Optional.ofNullable(read().get(vmId));
    }

    void put(String vmId, Entry entry) {
        Map<String, Entry> all = read();
        all.put(vmId, entry);
        Json.write(file, all);
    }

    void remove(String vmId) {
        Map<String, Entry> all = read();
        if (all.remove(vmId) != null) {
            Json.write(file, all);
        }
    }

    private Map<String, Entry> read() {
        return Json.readOr(file, new TypeReference<TreeMap<String, Entry>>() { }, new TreeMap<>());
    }
}

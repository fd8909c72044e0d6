package dev.smartvm.firecracker;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which Firecracker releases know which API field, from {@code fields-since-version.tsv} (a copy
 * of the project's reference file, kept as a resource). Firecracker answers an unknown field
 * with 400, so a field the target release lacks must never be sent.
 *
 * <p>Availability comes in four shapes: {@code all (>=v1.7.0)}; {@code v1.12.0..HEAD (15 tags)}
 * (every release from then on); an explicit list such as {@code v1.14.4,v1.15.1,v1.16.0,HEAD}
 * (backports: exactly those, plus anything newer than the newest release when HEAD is listed);
 * and {@code HEAD} alone (only builds newer than the newest release).
 */
public final class FieldSupport {
    static final String RESOURCE = "/dev/smartvm/firecracker/fields-since-version.tsv";

    private record Rule(FirecrackerVersion since, Set<FirecrackerVersion> exact, boolean head) {
    }

    private final Map<String, Rule> rules;
    private final FirecrackerVersion newestRelease;

    private FieldSupport(Map<String, Rule> rules, FirecrackerVersion newestRelease) {
        this.rules = rules;
        this.newestRelease = newestRelease;
    }

    public static FieldSupport load() {
        try (InputStream in = FieldSupport.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new SmartVmException(ErrorCode.IO_ERROR, "missing resource " + RESOURCE);
            }
            return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }

    static FieldSupport parse(BufferedReader reader) throws IOException {
        Map<String, Rule> rules = new HashMap<>();
        FirecrackerVersion newest = FirecrackerVersion.parse("0.0.0");
        String line = reader.readLine(); // header
        while ((line = reader.readLine()) != null) {
            String[] cols = line.split("\t");
            if (cols.length < 2) {
                continue;
            }
            String spec = cols[1].strip();
            Rule rule;
            if (spec.startsWith("all (>=")) {
                rule = new Rule(FirecrackerVersion.parse(spec.substring(7, spec.indexOf(')'))), Set.of(), true);
            } else if (spec.contains("..")) {
                rule = new Rule(FirecrackerVersion.parse(spec.substring(0, spec.indexOf(".."))), Set.of(), true);
            } else {
                Set<FirecrackerVersion> exact = new HashSet<>();
                boolean head = false;
                for (String tag : spec.split(",")) {
                    if (tag.strip().equals("HEAD")) {
                        head = true;
                    } else {
                        exact.add(FirecrackerVersion.parse(tag));
                    }
                }
                rule = new Rule(null, Set.copyOf(exact), head);
            }
            for (FirecrackerVersion v : rule.exact()) {
                newest = v.compareTo(newest) > 0 ? v : newest;
            }
            if (rule.since() != null && rule.since().compareTo(newest) > 0) {
                newest = rule.since();
            }
            rules.put(cols[0].strip(), rule);
        }
        return new FieldSupport(Map.copyOf(rules), newest);
    }

    /** Whether {@code item} ("Definition.field" or "METHOD /path") exists in {@code version}; unknown items are not gated. */
    public boolean supports(String item, FirecrackerVersion version) {
        Rule r = rules.get(item);
        if (r == null) {
            return true;
        }
        if (r.since() != null) {
            return version.compareTo(r.since()) >= 0;
        }
        return r.exact().contains(version) || r.head() && version.compareTo(newestRelease) > 0;
    }

    /** The first release that has {@code item}, for messages. */
    public Optional<FirecrackerVersion> firstRelease(String item) {
        Rule r = rules.get(item);
        if (r == null) {
            return Optional.empty();
        }
        if (r.since() != null) {
            return Optional.of(r.since());
        }
        return r.exact().stream().min(FirecrackerVersion::compareTo);
    }
}

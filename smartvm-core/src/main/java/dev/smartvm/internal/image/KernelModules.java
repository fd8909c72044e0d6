package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The kernel modules of an unpacked kernel package. A Debian kernel .deb ships no modules.dep
 * (depmod runs at install time), so dependencies are read from each module's {@code .modinfo}
 * section ({@code depends=a,b}) and the load order is computed here.
 */
public final class KernelModules {
    private final Map<String, Path> byName;

    private KernelModules(Map<String, Path> byName) {
        this.byName = byName;
    }

    /** Indexes every {@code *.ko} below {@code modulesDir} (e.g. lib/modules/6.1.0-1-cloud-amd64). */
    public static KernelModules index(Path modulesDir) {
        Map<String, Path> map = new HashMap<>();
        try (Stream<Path> files = Files.walk(modulesDir)) {
            files.filter(p -> p.getFileName().toString().endsWith(".ko"))
                    .forEach(p -> map.put(normalize(p.getFileName().toString()), p));
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "cannot list modules in " + modulesDir, e);
        }
        return new KernelModules(map);
    }

    static String normalize(String fileOrName) {
        String n = fileOrName.endsWith(".ko") ? fileOrName.substring(0, fileOrName.length() - 3) : fileOrName;
        return n.replace('-', '_');
    }

    public Path path(String name) {
        Path p = byName.get(normalize(name));
        if (p == null) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "the kernel has no module " + name);
        }
        return p;
    }

    /** The wanted modules and everything they depend on, each after its dependencies. */
    public List<String> loadOrder(Collection<String> wanted) {
        Set<String> done = new LinkedHashSet<>();
        for (String w : wanted) {
            visit(normalize(w), done, new LinkedHashSet<>());
        }
        return new ArrayList<>(done);
    }

    private void visit(String name, Set<String> done, Set<String> path) {
        if (done.contains(name)) {
            return;
        }
        if (!path.add(name)) {
            throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "module dependency cycle: " + path);
        }
        for (String dep : dependencies(path(name))) {
            visit(dep, done, path);
        }
        path.remove(name);
        done.add(name);
    }

    /** Reads {@code depends=} from the module's .modinfo strings. */
    static List<String> dependencies(Path module) {
        byte[] data;
        try {
            data = Files.readAllBytes(module);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] key = "depends=".getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + key.length <= data.length; i++) {
            if (i > 0 && data[i - 1] != 0) {
                continue;
            }
            for (int k = 0; k < key.length; k++) {
                if (data[i + k] != key[k]) {
                    continue outer;
                }
            }
            int end = i + key.length;
            while (end < data.length && data[end] != 0) {
                end++;
            }
            String list = new String(data, i + key.length, end - i - key.length, StandardCharsets.US_ASCII);
            List<String> deps = new ArrayList<>();
            for (String d : list.split(",")) {
                if (!d.isBlank()) {
                    deps.add(normalize(d.strip()));
                }
            }
            return deps;
        }
        return List.of();
    }
}

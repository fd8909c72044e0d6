package dev.smartvm.internal.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mark every VMM that SmartVM starts carries in its environment: its VM's directory. It is
 * there from the fork on, before any pid could be recorded, so a VMM whose starter was killed at
 * any moment of a start can still be found (in {@code /proc/PID/environ}) and killed by whoever
 * reaps the VM. The environment survives {@code setsid}'s exec and the VMM's own threads.
 */
public final class VmmLabel {
    /** The environment variable; its value is the VM directory's absolute, normalized path. */
    public static final String VARIABLE = "SMARTVM_VM_DIR";
    private static final Path PROC = Path.of("/proc");

    private VmmLabel() {
    }

    /** Labels the process {@code builder} starts as the VMM of {@code vmDir}. */
    public static ProcessBuilder apply(ProcessBuilder builder, Path vmDir) {
        builder.environment().put(VARIABLE, value(vmDir));
        return builder;
    }

    private static String value(Path vmDir) {
        return vmDir.toAbsolutePath().normalize().toString();
    }

    /** The live processes (zombies excluded) labelled with {@code vmDir}, this one never among them. */
    public static List<Long> find(Path vmDir) {
        String wanted = value(vmDir);
        return labelled().entrySet().stream().filter(e -> e.getValue().equals(wanted)).map(Map.Entry::getKey).toList();
    }

    /** The VM directories of every live labelled process on the host (that this user may see). */
    public static Set<Path> labelledDirs() {
        Set<Path> dirs = new HashSet<>();
        labelled().values().forEach(d -> dirs.add(Path.of(d)));
        return dirs;
    }

    /** Every live labelled process (zombies excluded, this one never among them) and its label. */
    private static Map<Long, String> labelled() {
        byte[] prefix = (VARIABLE + "=").getBytes(StandardCharsets.UTF_8);
        long self = ProcessHandle.current().pid();
        Map<Long, String> found = new HashMap<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC, p -> isPid(p.getFileName().toString()))) {
            for (Path p : procs) {
                long pid = Long.parseLong(p.getFileName().toString());
                String dir = pid == self ? null : valueOf(p.resolve("environ"), prefix);
                if (dir != null && HostProcess.isRunning(pid, null)) {
                    found.put(pid, dir);
                }
            }
        } catch (IOException e) {
            // no /proc to look in: nothing can be found there
        }
        return found;
    }

    /** Kills every process labelled with {@code vmDir} and waits (up to 10 s) until they are gone; how many there were. */
    public static int killAll(Path vmDir) {
        List<Long> pids = find(vmDir);
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        for (long pid : pids) {
            new VmmPid(pid, null, null).awaitExit(Duration.ofSeconds(10));
        }
        return pids.size();
    }

    private static boolean isPid(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** The value of the entry starting with {@code prefix} in the NUL-separated environment, or null. */
    private static String valueOf(Path environ, byte[] prefix) {
        byte[] env;
        try {
            env = Files.readAllBytes(environ);
        } catch (IOException | SecurityException e) {
            return null;
        }
        int start = 0;
        for (int i = 0; i <= env.length; i++) {
            if (i == env.length || env[i] == 0) {
                if (i - start >= prefix.length && java.util.Arrays.equals(env, start, start + prefix.length, prefix, 0, prefix.length)) {
                    return new String(env, start + prefix.length, i - start - prefix.length, StandardCharsets.UTF_8);
                }
                start = i + 1;
            }
        }
        return null;
    }
}

package dev.smartvm.internal.smolvm;

import dev.smartvm.ExitStatus;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What smolvm's {@code machine exec} exit and stderr say of the guest command, in SmartVM's terms
 * (as smolvm 1.9.3 says it: {@code shared/specs/smolvm/CLI-REFERENCE.md}, "Verified against the
 * source"): its own refusals of the machine raise; a command it could not spawn is 127 or 126,
 * not its exit 1; a timeout is 124, without the line smolvm adds to stderr.
 */
final class SmolvmExits {
    private static final int NOT_FOUND_EXIT = 127;
    private static final int CANNOT_EXECUTE_EXIT = 126;
    private static final Pattern SPAWN_FAILED = Pattern.compile("^Error: agent operation failed: vm exec: failed to spawn"
            + " command: (.*)$", Pattern.MULTILINE);

    private SmolvmExits() {
    }

    /**
     * The guest command's exit status; smolvm's refusal of the machine (unknown, not running)
     * raises. A spawn that failed for a missing file is 127, unless the working directory is the
     * one missing (asked of the guest): 126, as for a file that cannot run.
     */
    static ExitStatus status(SmolvmCli cli, String name, String workdir, Duration timeout, int exit, String stderr) {
        if (exit == 1 && refusesMachine(name, stderr)) {
            throw new SmolvmException("smolvm cannot run a command in machine '" + name + "': " + stderr.strip(), exit, stderr);
        }
        if (exit == 1) {
            Matcher spawn = SPAWN_FAILED.matcher(stderr);
            if (spawn.find()) { // no such program, or no such working directory: smolvm says the same for both
                boolean missing = spawn.group(1).contains("os error 2");
                boolean missingDir = missing && workdir != null
                        && cli.exec(name, List.of(), null, null, List.of("test", "-d", workdir)).exitCode() != 0;
                return new ExitStatus(missing && !missingDir ? NOT_FOUND_EXIT : CANNOT_EXECUTE_EXIT, 0, false);
            }
        }
        return new ExitStatus(exit, 0, timeout != null && exit == SmolvmCli.TIMEOUT_EXIT);
    }

    /** Whether {@code stderr} is smolvm refusing the machine itself: unknown, or not running. */
    static boolean refusesMachine(String name, String stderr) {
        String n = Pattern.quote(name);
        return Pattern.compile("^Error: (vm not found: " + n + "$|agent operation failed: connect: machine '" + n
                + "' is not running|machine '" + n + "' (is not running|not found))", Pattern.MULTILINE).matcher(stderr).find();
    }

    /** The command's own stderr: without the line an image machine's agent adds after a timeout. */
    static String commandStderr(ExitStatus status, String stderr) {
        return status.timedOut() ? stderr.replaceFirst("\ncommand timed out after \\d+ms\n?$", "") : stderr;
    }
}

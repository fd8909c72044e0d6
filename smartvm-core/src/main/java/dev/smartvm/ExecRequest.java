package dev.smartvm;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One command to run in the guest. The command is an argv, never a shell string: use
 * {@link #shell(String)} to ask for {@code sh -c} explicitly.
 *
 * @param command argv; the first element is looked up on the guest PATH
 * @param env extra environment (over the VM's)
 * @param workdir absolute guest directory, or null for the VM's default
 * @param timeout kill the command's process group after this long (exit code 124), or null for
 *     the VM's default
 * @param stdin bytes to feed the command's stdin (then EOF), or null for no stdin
 * @param uid the guest user to run as, or -1 for root
 * @param pty a pseudo-terminal of this size for the command's stdin, stdout and stderr (output
 *     then arrives on stdout only, as a terminal shows it; {@code TERM} is xterm-256color unless
 *     the environment says otherwise), or null for pipes
 */
public record ExecRequest(
        List<String> command, Map<String, String> env, String workdir, Duration timeout, byte[] stdin,
        int uid, TerminalSize pty) {

    /** A request without a terminal. */
    public ExecRequest(List<String> command, Map<String, String> env, String workdir, Duration timeout, byte[] stdin,
            int uid) {
        this(command, env, workdir, timeout, stdin, uid, null);
    }

    public ExecRequest {
        // contains(null) would itself throw on the JDK's immutable collections: look at each one
        if (command == null || command.stream().anyMatch(java.util.Objects::isNull)) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a command and each of its words must not be null");
        }
        if (env != null && env.entrySet().stream().anyMatch(e -> e.getKey() == null || e.getValue() == null)) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "environment names and values must not be null");
        }
        command = List.copyOf(command);
        if (command.isEmpty()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a command needs at least one word");
        }
        for (String word : command) {
            if (word.indexOf('\0') >= 0) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a command word contains NUL");
            }
        }
        env = Map.copyOf(env == null ? Map.of() : env);
        env.forEach(VmSpec::checkEnv);
        if (workdir != null && !workdir.startsWith("/")) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT,
                    "workdir must be an absolute guest path; found '" + workdir + "'");
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "timeout must be positive; found " + timeout);
        }
        stdin = stdin == null ? null : stdin.clone();
        if (uid < -1) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "uid must be -1 (root) or >= 0; found " + uid);
        }
    }

    public static ExecRequest of(String... command) {
        return new ExecRequest(command == null ? null : java.util.Arrays.asList(command), Map.of(), null, null, null, -1);
    }

    public static ExecRequest of(List<String> command) {
        return new ExecRequest(command, Map.of(), null, null, null, -1);
    }

    /** {@code sh -c script}: the one way to ask for a shell. */
    public static ExecRequest shell(String script) {
        if (script == null) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a shell script must not be null");
        }
        return of("sh", "-c", script);
    }

    @Override
    public byte[] stdin() {
        return stdin == null ? null : stdin.clone();
    }

    public ExecRequest withEnv(String key, String value) {
        Map<String, String> merged = new LinkedHashMap<>(env);
        merged.put(key, value);
        return new ExecRequest(command, merged, workdir, timeout, stdin, uid, pty);
    }

    public ExecRequest withWorkdir(String dir) {
        return new ExecRequest(command, env, dir, timeout, stdin, uid, pty);
    }

    public ExecRequest withTimeout(Duration limit) {
        return new ExecRequest(command, env, workdir, limit, stdin, uid, pty);
    }

    public ExecRequest withStdin(byte[] bytes) {
        return new ExecRequest(command, env, workdir, timeout, bytes, uid, pty);
    }

    public ExecRequest withUid(int user) {
        return new ExecRequest(command, env, workdir, timeout, stdin, user, pty);
    }

    /**
     * Runs the command on a pseudo-terminal of {@code columns} by {@code rows}: it gets a new
     * session with the terminal as its controlling terminal (job control and Ctrl-C work), and
     * its stdout and stderr arrive merged on stdout. Resize it with {@link ExecProcess#resize}.
     */
    public ExecRequest withPty(int columns, int rows) {
        return new ExecRequest(command, env, workdir, timeout, stdin, uid, new TerminalSize(columns, rows));
    }
}

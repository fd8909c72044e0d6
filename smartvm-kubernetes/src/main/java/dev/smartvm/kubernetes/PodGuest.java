package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecProcess;
import dev.smartvm.ExecRequest;
import dev.smartvm.ExecResult;
import dev.smartvm.ExitStatus;
import dev.smartvm.SmartVmException;
import dev.smartvm.spi.Guest;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A sandbox's guest through the Kubernetes exec API (its container's shell does what SmartVM's
 * agent does elsewhere): the working directory, environment and timeout of an exec are applied by
 * a small {@code sh} wrapper; stdout and stderr come on their own channels, the exit code on the
 * status channel.
 */
final class PodGuest implements Guest {
    /**
     * {@code cd} to $1; then run the rest under {@code timeout} (when $2 is not 0) through {@code env}
     * (K=V first), its stdin: with $3 {@code -1}, the exec's own (no stdin: empty); with a number,
     * the first $3 bytes sent; with {@code f}, the frames of a {@link FramedStdin} until its end
     * frame. The exec API of protocol v4 cannot close stdin alone, and closing the whole exec would
     * lose its exit status.
     */
    static final String WRAPPER = "cd -- \"$1\" 2>/dev/null || { echo \"smartvm: no directory $1\" >&2; exit 126; }; t=$2; n=$3;"
            + " shift 3; run() { if [ \"$t\" != 0 ]; then timeout -s KILL \"$t\" env \"$@\"; else env \"$@\"; fi; };"
            + " if [ \"$n\" = -1 ]; then run \"$@\"; elif [ \"$n\" = f ]; then"
            + " { while IFS= read -r c && [ \"$c\" != 0 ]; do head -c \"$c\"; done; } | run \"$@\";"
            + " else head -c \"$n\" | run \"$@\"; fi";
    /** The wrapper's stdin modes: none given, and framed. */
    static final String NO_STDIN = "-1";
    static final String FRAMED_STDIN = "f";

    static final String DEFAULT_TERM = "xterm-256color";
    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private volatile boolean closed;

    PodGuest(KubernetesClient client, String namespace, String name) {
        this.client = client;
        this.namespace = namespace;
        this.name = name;
    }

    /** The argv that runs {@code r}'s command in its directory, environment and time limit, without stdin. */
    static List<String> argv(ExecRequest r) {
        return argv(r, NO_STDIN);
    }

    /** The argv that runs {@code r}'s command, its stdin as {@code stdinMode} says ({@link #WRAPPER}'s $3). */
    static List<String> argv(ExecRequest r, String stdinMode) {
        if (r.pty() != null) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "the kubernetes backend has no terminal yet; run terminal"
                    + " sessions on the qemu or firecracker backend");
        }
        if (r.uid() != -1) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "the kubernetes backend runs commands as the container's user;"
                    + " it takes no uid");
        }
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", WRAPPER, "smartvm-exec",
                r.workdir() == null ? "/" : r.workdir(), r.timeout() == null ? "0" : Long.toString(seconds(r.timeout())),
                stdinMode));
        if (r.pty() != null && !r.env().containsKey("TERM")) {
            argv.add("TERM=" + DEFAULT_TERM);
        }
        for (Map.Entry<String, String> e : r.env().entrySet()) {
            argv.add(e.getKey() + "=" + e.getValue());
        }
        argv.addAll(r.command());
        return argv;
    }

    /** Whole seconds, rounded up (timeout(1) takes seconds). */
    private static long seconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000);
    }

    @Override
    public ExecResult run(ExecRequest request) {
        Instant start = Instant.now();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> argv = argv(request, request.stdin() == null ? NO_STDIN : Integer.toString(request.stdin().length));
        try (PodProcess p = PodProcess.start(client, namespace, name, argv, request.stdin() != null, request.timeout(),
                out, err, request.pty())) {
            if (request.stdin() != null) {
                try {
                    p.stdin().write(request.stdin()); // not closed: the command gets exactly these bytes, then the end
                    p.stdin().flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            ExitStatus status = p.waitFor(Duration.ofDays(3650));
            return new ExecResult(status, out.toByteArray(), err.toByteArray(), Duration.between(start, Instant.now()));
        }
    }

    @Override
    public ExecProcess start(ExecRequest request, boolean withStdin, OutputStream stdout, OutputStream stderr) {
        PodProcess p = PodProcess.start(client, namespace, name, argv(request, withStdin ? FRAMED_STDIN : NO_STDIN), withStdin,
                request.timeout(), stdout, stderr, request.pty());
        return withStdin ? p.framingStdin() : p;
    }

    @Override
    public long upload(Path source, String guestPath, Duration timeout) {
        return PodFiles.upload(this, source, guestPath, timeout);
    }

    @Override
    public long download(String guestPath, Path target, Duration timeout) {
        return PodFiles.download(this, guestPath, target, timeout);
    }

    PodProcess exec(List<String> argv, boolean withStdin, Duration timeout, OutputStream stdout, OutputStream stderr) {
        return PodProcess.start(client, namespace, name, argv, withStdin, timeout, stdout, stderr, null);
    }

    @Override
    public Duration ping(Duration timeout) {
        Instant start = Instant.now();
        ExecResult r = run(new ExecRequest(List.of("true"), Map.of(), null, timeout, null, -1, null));
        if (r.exitCode() != 0) {
            throw new SmartVmException(ErrorCode.AGENT_ERROR, "pod " + namespace + "/" + name + " did not run 'true': "
                    + r.stderr().strip());
        }
        return Duration.between(start, Instant.now());
    }

    /** Powering off is deleting the pod (its container's processes get the grace period). */
    @Override
    public void shutdown() {
        SandboxDeletion.delete(client, namespace, name, Duration.ofSeconds(5));
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    @Override
    public void close(RuntimeException reason) {
        closed = true;
    }
}

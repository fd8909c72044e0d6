package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecProcess;
import dev.smartvm.ExitStatus;
import dev.smartvm.SmartVmException;
import dev.smartvm.TerminalSize;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ExecListener;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One command in a pod's container (an {@link ExecWatch}): stdin, stdout and stderr as streams, the
 * exit code from the status channel. A command with a timeout runs under {@code timeout -s KILL}
 * ({@link PodGuest#WRAPPER}): killed when it ends, it gives 124 as everywhere in SmartVM; should
 * the pod not say so, this side gives up 5 s later.
 */
final class PodProcess implements ExecProcess {
    private static final int KILLED = 128 + 9;
    private static final Duration HOST_GRACE = Duration.ofSeconds(5);

    private final ExecWatch watch;
    private final Duration timeout;
    private final Instant started = Instant.now();
    private volatile ExitStatus status;

    private final boolean terminal;
    private final StreamPipe out;
    private final StreamPipe err;
    private volatile FramedStdin framed;

    private PodProcess(ExecWatch watch, Duration timeout, boolean terminal, StreamPipe out, StreamPipe err) {
        this.watch = watch;
        this.timeout = timeout;
        this.terminal = terminal;
        this.out = out;
        this.err = err;
    }

    /**
     * Starts {@code argv}; its output goes to {@code stdout} and {@code stderr}, or, when they are
     * null, to this process's streams.
     */
    static PodProcess start(KubernetesClient client, String namespace, String name, List<String> argv, boolean withStdin,
            Duration timeout, OutputStream stdout, OutputStream stderr, TerminalSize pty) {
        try {
            var container = client.pods().inNamespace(namespace).withName(name).inContainer(SandboxObjects.CONTAINER);
            var input = withStdin ? container.redirectingInput() : container;
            // the client's own redirected streams lose output that comes before they are read: pipes of ours instead
            StreamPipe out = stdout == null ? new StreamPipe() : null;
            StreamPipe err = stderr == null && pty == null ? new StreamPipe() : null;
            var output = input.writingOutput(out != null ? out.sink() : stdout);
            // the pipes end when the connection does, after the last output was written (the exit status comes sooner)
            ExecListener ends = new ExecListener() {
                @Override
                public void onClose(int code, String reason) {
                    closeSinks(out, err);
                }

                @Override
                public void onFailure(Throwable t, Response failureResponse) {
                    closeSinks(out, err);
                }
            };
            ExecWatch w;
            if (pty != null) { // a terminal: stderr comes merged into stdout, as on a screen
                w = output.withTTY().usingListener(ends).exec(argv.toArray(String[]::new));
                w.resize(pty.columns(), pty.rows());
            } else {
                w = output.writingError(err != null ? err.sink() : stderr).usingListener(ends).exec(argv.toArray(String[]::new));
            }
            return new PodProcess(w, timeout, pty != null, out, err);
        } catch (KubernetesClientException e) {
            throw KubeErrors.of("run " + argv.get(argv.size() - 1) + " in pod " + namespace + "/" + name, e);
        }
    }

    /** Its stdin from now on goes as {@link FramedStdin} frames (the command runs under the wrapper's framed mode). */
    PodProcess framingStdin() {
        framed = new FramedStdin(stdin());
        return this;
    }

    @Override
    public OutputStream stdin() {
        if (framed != null) {
            return framed;
        }
        OutputStream in = watch.getInput();
        if (in == null) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "this exec was started without stdin");
        }
        return in;
    }

    @Override
    public InputStream stdout() {
        return stream(out, "stdout");
    }

    @Override
    public InputStream stderr() {
        return terminal ? InputStream.nullInputStream() : stream(err, "stderr");
    }

    private static InputStream stream(StreamPipe pipe, String which) {
        if (pipe == null) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "this exec's " + which + " goes to the stream it was given");
        }
        return pipe.source();
    }

    @Override
    public ExitStatus waitFor(Duration wait) {
        if (status != null) {
            return status;
        }
        Duration limit = wait;
        if (timeout != null) {
            Duration hostDeadline = timeout.plus(HOST_GRACE).minus(Duration.between(started, Instant.now()));
            if (hostDeadline.compareTo(limit) < 0) {
                limit = hostDeadline.isNegative() ? Duration.ZERO : hostDeadline;
            }
        }
        try {
            Integer code = watch.exitCode().get(limit.toMillis(), TimeUnit.MILLISECONDS);
            int c = code == null ? -1 : code;
            boolean timedOut = timeout != null && c == KILLED
                    && Duration.between(started, Instant.now()).compareTo(timeout) >= 0;
            status = timedOut ? new ExitStatus(124, 0, true) : c > 128 && c < 128 + 65 ? new ExitStatus(c, c - 128, false)
                    : new ExitStatus(c, 0, false);
            return status;
        } catch (TimeoutException e) {
            if (timeout != null && limit.compareTo(wait) < 0) { // the command's own limit, and the pod did not end it
                watch.close();
                status = new ExitStatus(124, 0, true);
                return status;
            }
            throw new SmartVmException(ErrorCode.TIMEOUT, "the command did not end within " + wait.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for a command in a pod", e);
        } catch (ExecutionException e) {
            throw new SmartVmException(ErrorCode.AGENT_PROTOCOL, "the pod's exec failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public void signal(int signal) {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "the Kubernetes exec API cannot signal a command; give it a timeout,"
                + " or close its stdin");
    }

    @Override
    public void resize(int columns, int rows) {
        if (!terminal) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "this exec has no terminal");
        }
        new TerminalSize(columns, rows); // checked as everywhere
        watch.resize(columns, rows);
    }

    @Override
    public void close() {
        watch.close();
        closeSinks(out, err);
    }

    private static void closeSinks(StreamPipe out, StreamPipe err) {
        if (out != null) {
            out.closeSink();
        }
        if (err != null) {
            err.closeSink();
        }
    }
}

package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecProcess;
import dev.smartvm.ExitStatus;
import dev.smartvm.SmartVmException;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
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

    private PodProcess(ExecWatch watch, Duration timeout) {
        this.watch = watch;
        this.timeout = timeout;
    }

    /**
     * Starts {@code argv}; its output goes to {@code stdout} and {@code stderr}, or, when they are
     * null, to this process's streams.
     */
    static PodProcess start(KubernetesClient client, String namespace, String name, List<String> argv, boolean withStdin,
            Duration timeout, OutputStream stdout, OutputStream stderr) {
        try {
            var container = client.pods().inNamespace(namespace).withName(name).inContainer(SandboxObjects.CONTAINER);
            var input = withStdin ? container.redirectingInput() : container;
            var output = stdout != null ? input.writingOutput(stdout) : input.redirectingOutput();
            var error = stderr != null ? output.writingError(stderr) : output.redirectingError();
            ExecWatch w = error.exec(argv.toArray(String[]::new));
            return new PodProcess(w, timeout);
        } catch (KubernetesClientException e) {
            throw KubeErrors.of("run " + argv.get(argv.size() - 1) + " in pod " + namespace + "/" + name, e);
        }
    }

    @Override
    public OutputStream stdin() {
        OutputStream in = watch.getInput();
        if (in == null) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "this exec was started without stdin");
        }
        return in;
    }

    @Override
    public InputStream stdout() {
        return stream(watch.getOutput(), "stdout");
    }

    @Override
    public InputStream stderr() {
        return stream(watch.getError(), "stderr");
    }

    private static InputStream stream(InputStream s, String which) {
        if (s == null) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "this exec's " + which + " goes to the stream it was given");
        }
        return s;
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
        throw new SmartVmException(ErrorCode.INVALID_STATE, "this exec has no terminal");
    }

    @Override
    public void close() {
        watch.close();
    }
}

package dev.smartvm.kubernetes;

import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.ByteString;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kubelet and container runtime of a test cluster, in front of fabric8's mock API server (CRUD
 * mode): what no API server does and the mock cannot (a Kubernetes node cannot run here).
 * <ul>
 * <li>One node of {@link #NODE_CPUS} CPUs and {@link #NODE_MEMORY_MIB} MiB: a pod that asks for more is
 * not scheduled (condition PodScheduled False, Unschedulable, and a FailedScheduling event).</li>
 * <li>RBAC: in a namespace {@link #deny denied} to the test's user every request is 403 Forbidden.</li>
 * <li>A scheduled pod is "pulled" and started: its status becomes Running; an image under
 * {@code registry.invalid} fails to pull (ErrImagePull and a Warning event); an image named
 * {@code exits-at-once} starts a container that exits 1 at once (the pod Failed, as with
 * {@code restartPolicy: Never}).</li>
 * <li>Exec (protocol {@code v4.channel.k8s.io}, what fabric8 speaks) runs the command on this host
 * as the container's process: the container's env and working directory, stdin from channel 0,
 * stdout and stderr on channels 1 and 2, the exit status as a {@link Status} on channel 3, then
 * the close. It is refused as a kubelet refuses it: 404 for a pod that does not exist, 400 for a
 * container that does not run or is not the pod's.</li>
 * <li>A deleted pod's exec processes are killed (its container is gone).</li>
 * </ul>
 * Its "containers" are this host, so tests give them only harmless commands under /tmp.
 */
final class FakeKubelet extends Dispatcher {
    static final String UNPULLABLE_REGISTRY = "registry.invalid/";
    static final String EXITS_AT_ONCE = "exits-at-once";
    static final int NODE_CPUS = 8;
    static final int NODE_MEMORY_MIB = 16384;
    private static final Pattern NAMESPACED = Pattern.compile("/apis?/(?:[^/]+/)*namespaces/([^/?]+)(/([^/?]+))?.*");
    private static final Pattern EXEC = Pattern.compile("/api/v1/namespaces/([^/]+)/pods/([^/?]+)/exec\\?(.*)");
    private static final Pattern POD_CREATE = Pattern.compile("/api/v1/namespaces/([^/]+)/pods/?(\\?.*)?");
    private static final Pattern POD_DELETE = Pattern.compile("/api/v1/namespaces/([^/]+)/pods/([^/?]+)(\\?.*)?");
    private static final KubernetesSerialization JSON = new KubernetesSerialization();

    private final Dispatcher api;
    private final ExecutorService kubelet = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fake-kubelet");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Set<Process>> execs = new ConcurrentHashMap<>();
    private final Set<String> denied = ConcurrentHashMap.newKeySet();
    private volatile KubernetesClient client;

    FakeKubelet(Dispatcher api) {
        this.api = api;
    }

    /** The client the kubelet writes pod statuses and events with (the server's own, once it runs). */
    void useClient(KubernetesClient client) {
        this.client = client;
    }

    /** The test's user may do nothing in {@code namespace} (no RoleBinding there). */
    void deny(String namespace) {
        denied.add(namespace);
    }

    /** Exec processes still running, on all pods. */
    int runningExecs() {
        return execs.values().stream().mapToInt(s -> (int) s.stream().filter(Process::isAlive).count()).sum();
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        String path = request.getPath();
        Matcher namespaced = NAMESPACED.matcher(path);
        if (namespaced.matches() && denied.contains(namespaced.group(1))) {
            String resource = namespaced.group(3) == null ? "namespaces" : namespaced.group(3);
            return failure(403, "Forbidden", resource + " is forbidden: User \"smartvm-test\" cannot " + verb(request.method())
                    + " resource \"" + resource + "\" in the namespace \"" + namespaced.group(1) + "\"");
        }
        Matcher exec = EXEC.matcher(path);
        if (request.method() == HttpMethod.GET && exec.matches()) {
            return exec(exec.group(1), exec.group(2), query(exec.group(3)));
        }
        MockResponse response = api.dispatch(request);
        Matcher create = POD_CREATE.matcher(path);
        if (request.method() == HttpMethod.POST && create.matches() && response.code() == 201) {
            Pod pod = JSON.unmarshal(response.getBody().readUtf8(), Pod.class);
            response.setBody(JSON.asJson(pod));
            kubelet.execute(() -> start(pod));
        }
        Matcher delete = POD_DELETE.matcher(path);
        if (request.method() == HttpMethod.DELETE && delete.matches()) {
            killExecs(delete.group(1) + "/" + delete.group(2));
        }
        return response;
    }

    private static String verb(HttpMethod method) {
        return switch (method) {
            case POST -> "create";
            case PUT -> "update";
            case PATCH -> "patch";
            case DELETE -> "delete";
            default -> "get";
        };
    }

    private void start(Pod pod) {
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        String image = pod.getSpec().getContainers().get(0).getImage();
        String container = pod.getSpec().getContainers().get(0).getName();
        try {
            String insufficient = insufficient(pod);
            if (insufficient != null) {
                String message = "0/1 nodes are available: 1 Insufficient " + insufficient + ".";
                Pod current = client.pods().inNamespace(ns).withName(name).get();
                current.setStatus(new PodStatusBuilder().withPhase("Pending").addNewCondition().withType("PodScheduled")
                        .withStatus("False").withReason("Unschedulable").withMessage(message).endCondition().build());
                client.pods().inNamespace(ns).resource(current).updateStatus();
                event(ns, name, "scheduling", "FailedScheduling", message);
            } else if (image.startsWith(UNPULLABLE_REGISTRY)) {
                setStatus(pod, "Pending", new ContainerStateBuilder().withNewWaiting().withReason("ErrImagePull")
                        .withMessage("pull access denied").endWaiting().build(), container);
                event(ns, name, "pull", "Failed", "Failed to pull image \"" + image + "\": not found");
            } else if (image.contains(EXITS_AT_ONCE)) {
                setStatus(pod, "Failed", new ContainerStateBuilder().withNewTerminated().withExitCode(1).withReason("Error")
                        .endTerminated().build(), container);
            } else {
                setStatus(pod, "Running", new ContainerStateBuilder().withNewRunning().withStartedAt(Instant.now().toString())
                        .endRunning().build(), container);
            }
        } catch (KubernetesClientException e) {
            // deleted before it started
        }
    }

    /** What the pod asks for beyond the node's capacity ("cpu", "memory"), or null when it fits. */
    private static String insufficient(Pod pod) {
        Map<String, Quantity> requests = pod.getSpec().getContainers().get(0).getResources() == null
                ? Map.of() : pod.getSpec().getContainers().get(0).getResources().getRequests();
        if (requests == null) {
            return null;
        }
        var cpu = requests.get("cpu");
        if (cpu != null && cpu.getNumericalAmount().compareTo(BigDecimal.valueOf(NODE_CPUS)) > 0) {
            return "cpu";
        }
        var memory = requests.get("memory");
        if (memory != null && memory.getNumericalAmount().compareTo(BigDecimal.valueOf((long) NODE_MEMORY_MIB << 20)) > 0) {
            return "memory";
        }
        return null;
    }

    private void event(String ns, String pod, String suffix, String reason, String message) {
        client.resource(new EventBuilder().withNewMetadata().withName(pod + "." + suffix + "." + System.nanoTime()).withNamespace(ns).endMetadata()
                .withNewInvolvedObject().withKind("Pod").withName(pod).withNamespace(ns).endInvolvedObject()
                .withType("Warning").withReason(reason).withLastTimestamp(Instant.now().toString()).withMessage(message).build())
                .create();
    }

    private void setStatus(Pod pod, String phase, ContainerState state, String container) {
        Pod current = client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).get();
        if (current == null) {
            return;
        }
        current.setStatus(new PodStatusBuilder().withPhase(phase).withContainerStatuses(new ContainerStatusBuilder()
                .withName(container).withImage(pod.getSpec().getContainers().get(0).getImage()).withState(state).build()).build());
        client.pods().inNamespace(current.getMetadata().getNamespace()).resource(current).updateStatus();
    }

    private static Map<String, List<String>> query(String query) {
        Map<String, List<String>> params = new HashMap<>();
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return params;
    }

    private MockResponse exec(String ns, String name, Map<String, List<String>> params) {
        MockResponse found = api.dispatch(new RecordedRequest("HTTP/1.1", HttpMethod.GET, "/api/v1/namespaces/" + ns + "/pods/" + name,
                Headers.builder().build(), new Buffer()));
        if (found.code() == 404) {
            return failure(404, "NotFound", "pods \"" + name + "\" not found");
        }
        Pod pod = JSON.unmarshal(found.getBody().readUtf8(), Pod.class);
        String container = params.getOrDefault("container", List.of(pod.getSpec().getContainers().get(0).getName())).get(0);
        var spec = pod.getSpec().getContainers().stream().filter(c -> c.getName().equals(container)).findFirst();
        if (spec.isEmpty()) {
            return failure(400, "BadRequest", "container " + container + " is not valid for pod " + name);
        }
        boolean running = pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
        if (!running) {
            return failure(400, "BadRequest", "container " + container + " is not running; pod " + name + " is "
                    + (pod.getStatus() == null ? "Pending" : pod.getStatus().getPhase()));
        }
        List<String> command = params.getOrDefault("command", List.of());
        if (command.isEmpty()) {
            return failure(400, "BadRequest", "you must specify at least 1 command");
        }
        if (Boolean.parseBoolean(params.getOrDefault("tty", List.of("false")).get(0))) {
            return failure(400, "BadRequest", "this test kubelet has no terminals");
        }
        Map<String, String> env = new HashMap<>();
        env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("HOSTNAME", name);
        if (spec.get().getEnv() != null) {
            for (EnvVar e : spec.get().getEnv()) {
                env.put(e.getName(), e.getValue() == null ? "" : e.getValue());
            }
        }
        String workdir = spec.get().getWorkingDir() == null ? "/" : spec.get().getWorkingDir();
        boolean stdin = Boolean.parseBoolean(params.getOrDefault("stdin", List.of("false")).get(0));
        return new MockResponse().withWebSocketUpgrade(new ExecSession(ns + "/" + name, command, env, workdir, stdin));
    }

    private static MockResponse failure(int code, String reason, String message) {
        Status status = new StatusBuilder().withStatus("Failure").withCode(code).withReason(reason).withMessage(message).build();
        return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json").setBody(JSON.asJson(status));
    }

    private void killExecs(String pod) {
        Set<Process> running = execs.remove(pod);
        if (running != null) {
            running.forEach(FakeKubelet::kill);
        }
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    /** Kills what still runs and stops the kubelet. */
    void close() {
        List.copyOf(execs.keySet()).forEach(this::killExecs);
        kubelet.shutdownNow();
    }

    /** One exec: a host process whose streams are the WebSocket's channels. */
    private final class ExecSession extends WebSocketListener {
        private final String pod;
        private final List<String> command;
        private final Map<String, String> env;
        private final String workdir;
        private final boolean withStdin;
        private volatile Process process;

        ExecSession(String pod, List<String> command, Map<String, String> env, String workdir, boolean withStdin) {
            this.pod = pod;
            this.command = command;
            this.env = env;
            this.workdir = workdir;
            this.withStdin = withStdin;
        }

        @Override
        public void onOpen(WebSocket ws, Response response) {
            ProcessBuilder b = new ProcessBuilder(command).directory(new File(workdir));
            b.environment().clear();
            b.environment().putAll(env);
            if (!withStdin) {
                b.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            }
            Process p;
            try {
                p = b.start();
            } catch (IOException e) { // what the runtime says when it cannot start the process at all
                send(ws, 3, JSON.asJson(new StatusBuilder().withStatus("Failure").withReason("InternalError")
                        .withMessage("failed to exec in container: " + e.getMessage()).build()).getBytes(StandardCharsets.UTF_8));
                ws.close(1000, "");
                return;
            }
            process = p;
            execs.computeIfAbsent(pod, k -> ConcurrentHashMap.newKeySet()).add(p);
            Thread out = pump(ws, p.getInputStream(), 1);
            Thread err = pump(ws, p.getErrorStream(), 2);
            Thread.ofPlatform().daemon().name("fake-kubelet-exit").start(() -> {
                try {
                    int code = p.waitFor();
                    out.join();
                    err.join();
                    send(ws, 3, JSON.asJson(status(code)).getBytes(StandardCharsets.UTF_8));
                    ws.close(1000, "");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    Set<Process> of = execs.get(pod);
                    if (of != null) {
                        of.remove(p);
                    }
                }
            });
        }

        private Status status(int code) {
            if (code == 0) {
                return new StatusBuilder().withStatus("Success").build();
            }
            return new StatusBuilder().withStatus("Failure").withReason("NonZeroExitCode")
                    .withMessage("command terminated with non-zero exit code: error executing command " + command + ", exit code " + code)
                    .withNewDetails().addNewCause().withReason("ExitCode").withMessage(Integer.toString(code)).endCause().endDetails()
                    .build();
        }

        private Thread pump(WebSocket ws, InputStream from, int channel) {
            return Thread.ofPlatform().daemon().name("fake-kubelet-" + channel).start(() -> {
                byte[] buf = new byte[8192];
                try {
                    for (int n; (n = from.read(buf)) > 0; ) {
                        byte[] frame = new byte[n + 1];
                        frame[0] = (byte) channel;
                        System.arraycopy(buf, 0, frame, 1, n);
                        ws.send(frame);
                    }
                } catch (IOException e) {
                    // the process was killed
                }
            });
        }

        @Override
        public void onMessage(WebSocket ws, byte[] bytes) {
            Process p = process;
            if (p == null || bytes.length == 0 || bytes[0] != 0 || !withStdin) {
                return; // channel 4 (resize) means nothing without a terminal
            }
            try {
                OutputStream in = p.getOutputStream();
                in.write(bytes, 1, bytes.length - 1);
                in.flush();
            } catch (IOException e) {
                // the command closed its stdin or ended: the bytes go nowhere, as in a container
            }
        }

        @Override
        public void onMessage(WebSocket ws, ByteString bytes) {
            onMessage(ws, bytes.toByteArray());
        }

        @Override
        public void onClosing(WebSocket ws, int code, String reason) {
            end();
        }

        @Override
        public void onClosed(WebSocket ws, int code, String reason) {
            end();
        }

        @Override
        public void onFailure(WebSocket ws, Throwable t, Response response) {
            end();
        }

        /** The client went: the exec's process goes too (a kubelet would leave it to the runtime; a test leaves nothing). */
        private void end() {
            Process p = process;
            if (p != null && p.isAlive()) {
                kill(p);
            }
        }

        private void send(WebSocket ws, int channel, byte[] data) {
            byte[] frame = new byte[data.length + 1];
            frame[0] = (byte) channel;
            System.arraycopy(data, 0, frame, 1, data.length);
            ws.send(frame);
        }
    }
}

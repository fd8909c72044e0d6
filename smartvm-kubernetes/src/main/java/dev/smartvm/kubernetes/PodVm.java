package dev.smartvm.kubernetes;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.spi.AgentEndpoint;
import dev.smartvm.spi.Guest;
import dev.smartvm.spi.VmmProcess;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One sandbox's pod, as the VMM of a VM: alive while the pod runs; its guest is reached through
 * the Kubernetes exec API once it runs ({@link #guest}); terminating it deletes the pod, its
 * NetworkPolicy and its Service. There is no local process ({@link #pid} is -1).
 */
final class PodVm implements VmmProcess {
    /** Waiting reasons of a container that will not start without someone changing something. */
    private static final Set<String> HOPELESS = Set.of("ErrImagePull", "ImagePullBackOff", "InvalidImageName",
            "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "CrashLoopBackOff");

    private final KubernetesClient client;
    private final String namespace;
    private final String name;

    PodVm(KubernetesClient client, String namespace, String name) {
        this.client = client;
        this.namespace = namespace;
        this.name = name;
    }

    String namespace() {
        return namespace;
    }

    String name() {
        return name;
    }

    @Override
    public long pid() {
        return -1;
    }

    @Override
    public AgentEndpoint agentEndpoint() {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "a Kubernetes sandbox is reached through the exec API, not SmartVM's agent");
    }

    /** Waits until the pod runs (its container started), then its guest; a pod that cannot run fails at once, with its events. */
    @Override
    public Guest guest(Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            Pod pod = pod();
            if (pod == null) {
                throw new SmartVmException(ErrorCode.BOOT_FAILED, "pod " + namespace + "/" + name + " was deleted before it ran");
            }
            String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
            if ("Running".equals(phase) && running(pod)) {
                return new PodGuest(client, namespace, name);
            }
            if ("Failed".equals(phase) || "Succeeded".equals(phase)) {
                throw new SmartVmException(ErrorCode.BOOT_FAILED, "pod " + namespace + "/" + name + " ended (" + phase + ")"
                        + events());
            }
            Optional<String> hopeless = waitingReason(pod).filter(HOPELESS::contains);
            if (hopeless.isPresent()) {
                ErrorCode code = hopeless.get().contains("Image") ? ErrorCode.IMAGE_NOT_FOUND : ErrorCode.BOOT_FAILED;
                throw new SmartVmException(code, "pod " + namespace + "/" + name + " cannot start its container ("
                        + hopeless.get() + ")" + events());
            }
            if (!Instant.now().isBefore(deadline)) {
                Optional<String> unschedulable = unschedulable(pod);
                if (unschedulable.isPresent()) { // may pass (an autoscaler adds a node): waited for as long as the boot may take
                    throw new SmartVmException(ErrorCode.HOST_OVERCOMMITTED, "no node of the cluster can take pod " + namespace + "/"
                            + name + " (" + unschedulable.get() + "); ask for fewer CPUs or less memory, or add nodes" + events());
                }
                throw new SmartVmException(ErrorCode.TIMEOUT, "pod " + namespace + "/" + name + " did not run within "
                        + timeout.toSeconds() + " s (phase " + phase + ")" + events());
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for pod " + name, e);
            }
        }
    }

    private static boolean running(Pod pod) {
        List<ContainerStatus> statuses = pod.getStatus().getContainerStatuses();
        return statuses != null && statuses.stream().anyMatch(s -> SandboxObjects.CONTAINER.equals(s.getName())
                && s.getState() != null && s.getState().getRunning() != null);
    }

    /** The scheduler's word, when it found no node for the pod (condition PodScheduled False, Unschedulable). */
    private static Optional<String> unschedulable(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
            return Optional.empty();
        }
        return pod.getStatus().getConditions().stream()
                .filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && "Unschedulable".equals(c.getReason()))
                .map(c -> c.getMessage() == null ? "Unschedulable" : c.getMessage()).findFirst();
    }

    private static Optional<String> waitingReason(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return Optional.empty();
        }
        return pod.getStatus().getContainerStatuses().stream()
                .filter(s -> s.getState() != null && s.getState().getWaiting() != null)
                .map(s -> s.getState().getWaiting().getReason()).filter(r -> r != null).findFirst();
    }

    /** The pod's events, newest last, as lines of an error message ("" without any). */
    String events() {
        try {
            List<Event> events = client.v1().events().inNamespace(namespace)
                    .withField("involvedObject.name", name).list().getItems().stream()
                    .filter(e -> e.getInvolvedObject() != null && name.equals(e.getInvolvedObject().getName())).toList();
            if (events.isEmpty()) { // an API server that ignores the field selector: the namespace's, filtered here
                events = client.v1().events().inNamespace(namespace).list().getItems().stream()
                        .filter(e -> e.getInvolvedObject() != null && name.equals(e.getInvolvedObject().getName())).toList();
            }
            if (events.isEmpty()) {
                return "";
            }
            return "; its events:\n" + events.stream()
                    .sorted(Comparator.comparing(e -> e.getLastTimestamp() == null ? "" : e.getLastTimestamp()))
                    .map(e -> "  " + e.getType() + " " + e.getReason() + ": " + e.getMessage())
                    .collect(Collectors.joining("\n"));
        } catch (KubernetesClientException e) {
            return " (its events cannot be read: " + e.getMessage() + ")";
        }
    }

    private Pod pod() {
        try {
            return client.pods().inNamespace(namespace).withName(name).get();
        } catch (KubernetesClientException e) {
            throw KubeErrors.of("read pod " + namespace + "/" + name, e);
        }
    }

    @Override
    public void pause() {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "a Kubernetes sandbox cannot be paused; the qemu and firecracker backends can");
    }

    @Override
    public void resume() {
        pause();
    }

    @Override
    public boolean isAlive() {
        try {
            Pod pod = client.pods().inNamespace(namespace).withName(name).get();
            if (pod == null || pod.getMetadata().getDeletionTimestamp() != null) {
                return false;
            }
            String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
            return !"Failed".equals(phase) && !"Succeeded".equals(phase);
        } catch (KubernetesClientException e) {
            return true; // the API server did not answer: not a reason to take the sandbox for dead
        }
    }

    @Override
    public boolean awaitExit(Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        while (isAlive()) {
            if (!Instant.now().isBefore(deadline)) {
                return false;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !isAlive();
            }
        }
        return true;
    }

    /** Deletes the sandbox's objects (the pod gets {@code grace} to end) and waits for the pod to go. */
    @Override
    public void terminate(Duration grace) {
        SandboxDeletion.delete(client, namespace, name, grace);
        awaitExit(grace.plusSeconds(30));
    }

    @Override
    public Optional<String> exitReason() {
        try {
            Pod pod = client.pods().inNamespace(namespace).withName(name).get();
            if (pod == null) {
                return Optional.of("its pod " + namespace + "/" + name + " was deleted");
            }
            if (pod.getStatus() != null && pod.getStatus().getReason() != null) {
                return Optional.of("its pod " + pod.getStatus().getReason() + ": " + pod.getStatus().getMessage());
            }
            return Optional.empty();
        } catch (KubernetesClientException e) {
            return Optional.empty();
        }
    }

    /** Let go of on purpose (detached): its objects no longer belong to this instance's Lease. */
    @Override
    public void detached() {
        SandboxDeletion.relabel(client, namespace, name, OwnerLease.DETACHED);
    }

    @Override
    public void close() {
        // the client is the backend's
    }
}

package dev.smartvm.cli;

import dev.smartvm.HostCheck;
import dev.smartvm.SmartVm;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "doctor", description = "Says what this host has and lacks for SmartVM, and how to fix each.")
final class DoctorCommand implements Callable<Integer> {
    @Option(names = "--json", description = "One JSON array of {status, what, detail, fix}.")
    boolean json;

    @Option(names = "--backend", paramLabel = "NAME", description = "Also check what this engine needs beyond the host"
            + " (kubernetes: the API server, the RuntimeClass, the permissions in the namespace).")
    String backend;

    @Option(names = "--kube-context", paramLabel = "CONTEXT", description = "kubernetes: the kubeconfig context.")
    String kubeContext;

    @Option(names = "--namespace", paramLabel = "NS", description = "kubernetes: the namespace.")
    String namespace;

    @Option(names = "--runtime-class", paramLabel = "NAME", description = "kubernetes: the RuntimeClass (default: kata).")
    String runtimeClass;

    @Override
    public Integer call() {
        VmOptions.kubernetesSettings(kubeContext, namespace, runtimeClass);
        List<HostCheck> checks = backend == null ? SmartVm.checkHost(SmartVm.Builder.defaultHome())
                : SmartVm.checkHost(SmartVm.Builder.defaultHome(), backend);
        long problems = checks.stream().filter(HostCheck::isProblem).count();
        if (json) {
            System.out.println(CliJson.text(checks));
        } else {
            for (HostCheck c : checks) {
                System.out.printf("%-8s %-10s %s%s%n", c.status(), c.what(), c.detail(), c.fix() == null ? "" : "  (fix: " + c.fix() + ")");
            }
            System.out.println(problems == 0 ? "ready: 'smartvm run -- uname -a' should work" : problems + " problem(s) to fix first");
        }
        return problems == 0 ? 0 : 1;
    }
}

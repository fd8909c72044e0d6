package dev.smartvm.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.smartvm.BootPlan;
import dev.smartvm.SmartVm;
import dev.smartvm.VmSpec;
import dev.smartvm.firecracker.FirecrackerTarget;
import dev.smartvm.firecracker.FirecrackerVersion;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "plan", description = {
        "Prints what 'run' with these options would ask of the engine, without starting anything: for firecracker the",
        "API requests in order, as a JSON array of {\"method\",\"path\",\"body\"}; for qemu its command line, as a JSON",
        "array of strings. It takes the same steps as a start (resolve image, decide acceleration, plan network); the VM",
        "id is shown as 'planned', and a bridge address as ADDRESS (leased at start)."})
final class PlanCommand implements Callable<Integer> {
    @Mixin
    VmOptions vm;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Option(names = "--firecracker-version", paramLabel = "X.Y.Z",
            description = "The Firecracker release to plan for (default: the installed firecracker's, else the release SmartVM fetches).")
    String version;

    @Override
    public Integer call() {
        VmSpec spec = vm.toSpec();
        Object[] extensions = version == null ? new Object[0]
                : new Object[] {new FirecrackerTarget(FirecrackerVersion.parse(version))};
        try (SmartVm svm = Session.open()) {
            BootPlan plan = svm.plan(spec, extensions);
            ArrayNode out = CliJson.array();
            if (plan.apiCalls().isEmpty()) {
                plan.commandLine().forEach(out::add);
            } else {
                for (BootPlan.ApiCall c : plan.apiCalls()) {
                    var o = out.addObject().put("method", c.method()).put("path", c.path());
                    o.set("body", c.body() == null ? null : readTree(c.body()));
                }
            }
            command.commandLine().getOut().println(CliJson.text(out));
            command.commandLine().getOut().flush();
            return 0;
        }
    }

    private static com.fasterxml.jackson.databind.JsonNode readTree(String json) {
        try {
            return CliJson.MAPPER.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the engine planned a body that is not JSON: " + json, e);
        }
    }
}

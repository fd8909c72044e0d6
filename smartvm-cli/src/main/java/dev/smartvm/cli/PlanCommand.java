package dev.smartvm.cli;

import dev.smartvm.Acceleration;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import dev.smartvm.firecracker.FirecrackerOptions;
import dev.smartvm.firecracker.FirecrackerVersion;
import dev.smartvm.internal.firecracker.ApiRequest;
import dev.smartvm.internal.firecracker.FirecrackerBackend;
import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.io.Json;
import dev.smartvm.spi.BootRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "plan", description = {
        "Prints the API requests the firecracker backend would send for these options, in order, as a JSON array of",
        "{\"method\",\"path\",\"body\"}, without starting anything. The VM id is shown as 'planned'."})
final class PlanCommand implements Callable<Integer> {
    static final String PLANNED_ID = "planned";

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
        if (!spec.backend().equals("firecracker")) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "plan shows Firecracker API requests: add --backend firecracker"
                    + " (QEMU takes a command line instead; each VM's is in qemu.argv in its directory)");
        }
        FirecrackerVersion target = version != null ? FirecrackerVersion.parse(version) : FirecrackerBackend.installedVersion();
        try (SmartVm svm = Session.open()) {
            ImageBundle image = svm.images().resolve(spec.image());
            BootRequest launch = new BootRequest(PLANNED_ID, svm.home().resolve("vms").resolve(PLANNED_ID), image.boot(),
                    spec.cpus(), spec.memoryMib(), Acceleration.KVM, null, null,
                    spec.firecrackerConfig() == null ? List.of() : List.of(new FirecrackerOptions(spec.firecrackerConfig())));
            List<ApiRequest> requests = FirecrackerBackend.fromEnvironment(svm.home().resolve("firecracker")).plan(launch, target);
            List<Map<String, Object>> out = new ArrayList<>();
            for (ApiRequest r : requests) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("method", r.method());
                m.put("path", r.path());
                m.put("body", r.body());
                out.add(m);
            }
            command.commandLine().getOut().println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(out));
            command.commandLine().getOut().flush();
            return 0;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot print the plan: " + e.getMessage(), e);
        }
    }
}

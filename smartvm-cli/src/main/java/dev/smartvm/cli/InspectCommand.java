package dev.smartvm.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.SmartVm;
import dev.smartvm.VmInfo;
import dev.smartvm.VmNetwork;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", description = "Prints everything known about a VM as one JSON object: its state, spec and network.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME")
    String name;

    @Option(names = "--firecracker-config", description = "Print instead the Firecracker configuration the running VM has"
            + " (GET /vm/config without SmartVM's agent parts: a file --firecracker-config and Firecracker's --config-file read).")
    boolean firecrackerConfig;

    /** The VM's network mode as the CLI writes it: bridge, user, none, or the engine's name for its own (smolvm). */
    static String mode(VmInfo v) {
        return v.network() == null ? "none" : v.network().mode() == null ? v.backend() : v.network().mode().name().toLowerCase();
    }

    @Override
    public Integer call() throws Exception {
        try (SmartVm svm = Session.open()) {
            if (firecrackerConfig) {
                System.out.println(Session.find(svm, name).firecracker().vmConfig());
                return 0;
            }
            VmInfo v = Session.find(svm, name).info();
            ObjectNode o = CliJson.object();
            o.put("id", v.id()).put("name", v.name()).put("state", v.state().name().toLowerCase()).put("backend", v.backend())
                    .put("acceleration", v.acceleration().name().toLowerCase()).put("pid", v.pid())
                    .put("createdAt", v.createdAt().toString()).put("stateDir", v.stateDir().toString())
                    .put("stopReason", v.stopReason()).put("expiresAt", v.expiresAt() == null ? null : v.expiresAt().toString());
            ObjectNode net = o.putObject("network").put("mode", mode(v));
            VmNetwork n = v.network();
            if (n != null) {
                net.put("address", n.address()).put("mac", n.mac()).put("tap", n.tap());
                net.set("allow", CliJson.MAPPER.valueToTree(v.spec().network().allow()));
                net.set("deny", CliJson.MAPPER.valueToTree(v.spec().network().deny()));
                net.set("publish", CliJson.MAPPER.valueToTree(v.spec().network().publish()));
            }
            o.set("spec", CliJson.MAPPER.valueToTree(v.spec()));
            System.out.println(CliJson.text(o));
            return 0;
        }
    }
}

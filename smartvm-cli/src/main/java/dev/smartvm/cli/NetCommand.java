package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.MicroVm;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "net", description = {"Shows a VM's egress rules, or replaces them while it runs (one nft transaction:"
        + " connections open to an address the new rules deny stop, hostname rules keep following DNS). The VM keeps them"
        + " when it restarts."})
final class NetCommand implements Callable<Integer> {
    @Parameters(paramLabel = "VM")
    String name;

    @Option(names = "--allow", paramLabel = "RULE", description = "Allow only these (CIDR, address or hostname, with an"
            + " optional :port); repeatable. Replaces the rules with those given.")
    List<String> allow = new ArrayList<>();

    @Option(names = "--deny", paramLabel = "RULE", description = "Deny these; repeatable.")
    List<String> deny = new ArrayList<>();

    @Option(names = "--clear", description = "Remove every rule: all egress allowed but the defaults (metadata, other VMs,"
            + " the host).")
    boolean clear;

    @Option(names = "--json", description = "Print the rules as {allow: [...], deny: [...]}.")
    boolean json;

    @Override
    public Integer call() {
        boolean change = clear || !allow.isEmpty() || !deny.isEmpty();
        if (clear && (!allow.isEmpty() || !deny.isEmpty())) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "--clear removes every rule: give it without --allow or --deny");
        }
        try (SmartVm svm = Session.open()) {
            MicroVm vm = Session.find(svm, name);
            if (change) {
                vm.updateEgress(allow, deny);
                FollowHostnamesCommand.spawnFor(vm); // this process's resolving ends with it
            }
            NetworkSpec net = vm.info().spec().network();
            if (json) {
                var out = CliJson.object();
                out.putPOJO("allow", net.allow());
                out.putPOJO("deny", net.deny());
                System.out.println(CliJson.text(out));
            } else if (!change) {
                System.out.println("allow: " + (net.allow().isEmpty() ? "(everything but the defaults)" : String.join(" ", net.allow())));
                System.out.println("deny:  " + (net.deny().isEmpty() ? "(nothing but the defaults)" : String.join(" ", net.deny())));
            }
            return 0;
        }
    }
}

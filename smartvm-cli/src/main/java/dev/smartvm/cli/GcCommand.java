package dev.smartvm.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.Leftover;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "gc", description = {"Removes what no live owner holds: VMs whose owning process died, VMMs whose VM"
        + " directory is gone, VM directories"
        + " without a record, sockets of VMs not running, half-made snapshots and templates, locks of images no longer"
        + " cached, and (as root) the leases, published ports, nft rules and TAP devices of VMs that are not running, and an"
        + " unused bridge. Prints what it removed."})
final class GcCommand implements Callable<Integer> {
    @Option(names = "--dry-run", description = "Print what would be removed; remove nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print a JSON array: {kind, name, reason, removed, error} per leftover.")
    boolean json;

    @Override
    public Integer call() {
        List<Leftover> found;
        try (SmartVm svm = Session.builder().reapAtOpen(false).build()) {
            found = svm.collectGarbage(dryRun);
        }
        if (json) {
            ArrayNode out = CliJson.array();
            for (Leftover l : found) {
                out.addObject().put("kind", l.kind().name()).put("name", l.name()).put("reason", l.reason())
                        .put("removed", !dryRun && l.failure() == null).put("error", l.failure());
            }
            System.out.println(CliJson.text(out));
        } else if (found.isEmpty()) {
            System.out.println(dryRun ? "nothing to remove" : "nothing to remove: nothing was left behind");
        } else {
            for (Leftover l : found) {
                String verb = l.failure() != null ? "could not remove" : dryRun ? "would remove" : "removed";
                System.out.println(verb + " " + l.kind().name().toLowerCase().replace('_', ' ') + " " + l.name() + ": "
                        + l.reason() + (l.failure() != null ? " (" + l.failure() + ")" : ""));
            }
        }
        long failed = found.stream().filter(l -> l.failure() != null).count();
        if (failed > 0) {
            throw new SmartVmException(ErrorCode.IO_ERROR, failed + " of " + found.size() + " leftovers could not be removed");
        }
        return 0;
    }
}

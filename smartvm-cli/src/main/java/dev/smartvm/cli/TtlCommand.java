package dev.smartvm.cli;

import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.TimeLimits;
import dev.smartvm.VmInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "ttl", description = {"Shows when a running VM's lifetime ends, or sets it to end DUR from now (extending or"
        + " shortening it, or giving one to a VM that had none). Then it is removed, or stopped if it was made with"
        + " --on-ttl stop; SmartVM's watchdog process enforces it."})
final class TtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "VM")
    String name;

    @Parameters(index = "1", arity = "0..1", paramLabel = "DUR", converter = Durations.class,
            description = "The VM's lifetime from now, e.g. 10m, 2h, 1d.")
    Duration ttl;

    @Option(names = "--json", description = "Print {name, expiresAt, remainingSeconds, onTtl}; nulls without a TTL.")
    boolean json;

    @Override
    public Integer call() {
        try (SmartVm svm = Session.open()) {
            MicroVm vm = Session.find(svm, name);
            if (ttl != null) {
                vm.setTtl(ttl);
            }
            VmInfo v = vm.info();
            Instant at = v.expiresAt();
            Long left = at == null ? null : Math.max(0, Duration.between(Instant.now(), at).toSeconds());
            TimeLimits.OnTtl action = v.spec().timeLimits().onTtl();
            if (json) {
                System.out.println(CliJson.text(CliJson.object().put("name", v.name()).put("expiresAt", at == null ? null : at.toString())
                        .put("remainingSeconds", left).put("onTtl", action.name().toLowerCase())));
            } else if (at == null) {
                System.out.println(v.name() + " has no TTL" + (v.state().isActive() ? "" : " (it is " + v.state().name().toLowerCase() + ")"));
            } else {
                System.out.println(v.name() + " is " + (action == TimeLimits.OnTtl.STOP ? "stopped" : "removed") + " at " + at
                        + " (in " + LsCommand.human(left) + ")");
            }
            return 0;
        }
    }
}

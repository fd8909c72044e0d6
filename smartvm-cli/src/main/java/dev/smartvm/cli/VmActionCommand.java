package dev.smartvm.cli;

import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** A command that does one thing to one VM by name: start, pause, resume, stop. */
abstract class VmActionCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME")
    String name;

    private final Consumer<MicroVm> action;

    VmActionCommand(Consumer<MicroVm> action) {
        this.action = action;
    }

    @Override
    public Integer call() {
        try (SmartVm svm = Session.open()) {
            action.accept(Session.find(svm, name));
            return 0;
        }
    }

    @Command(name = "start", description = "Boots a stopped VM again.")
    static final class Start extends VmActionCommand {
        Start() {
            super(vm -> FollowHostnamesCommand.spawnFor(vm.start()));
        }
    }

    @Command(name = "pause", description = "Pauses a running VM (its vCPUs stop; memory stays).")
    static final class Pause extends VmActionCommand {
        Pause() {
            super(MicroVm::pause);
        }
    }

    @Command(name = "resume", description = "Resumes a paused VM.")
    static final class Resume extends VmActionCommand {
        Resume() {
            super(MicroVm::resume);
        }
    }

    @Command(name = "stop", description = "Powers a VM off; it can be started again.")
    static final class Stop extends VmActionCommand {
        Stop() {
            super(MicroVm::stop);
        }
    }
}

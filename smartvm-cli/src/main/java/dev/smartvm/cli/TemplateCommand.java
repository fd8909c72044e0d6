package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "template", description = "Prepared VMs that clones start from in tens of milliseconds.",
        subcommands = {TemplateCommand.Create.class, TemplateCommand.Ls.class, TemplateCommand.Rm.class})
final class TemplateCommand {
    private TemplateCommand() {
    }

    @Command(name = "create", description = {"Boots a VM with its memory in a file of the template's, runs the prepare",
            "commands in order (sh -c), saves it, and prints the template's name. Start clones",
            "with 'smartvm run|create --template NAME'. A failing command leaves nothing."})
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME")
        String name;

        @Mixin
        VmOptions vm;

        @Option(names = "--prepare", paramLabel = "'SHELL COMMAND'", description = {"A command that prepares the template",
                "(install packages, start a server, warm caches); repeatable, run in order."})
        List<String> prepare = new ArrayList<>();

        @Override
        public Integer call() {
            if (vm.name != null || vm.template != null) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a template is named by its NAME and made from an"
                        + " image: drop --name and --template");
            }
            VmSpec vmSpec = vm.toSpec();
            try (SmartVm svm = Session.open()) {
                spec.commandLine().getOut().println(svm.createTemplate(name, vmSpec, prepare).name());
                spec.commandLine().getOut().flush();
                return 0;
            }
        }
    }

    @Command(name = "ls", description = "Lists the templates.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "One JSON array.")
        boolean json;

        @Override
        public Integer call() {
            try (SmartVm svm = Session.open()) {
                SavedListing.print(spec.commandLine().getOut(), json, svm.templates(), (arr, t) -> SavedListing.json(arr,
                        t.name(), t.backend(), t.engineVersion(), t.acceleration(), t.spec(), t.createdAt(), t.sizeBytes(),
                        t.directory()).put("forkedFrom", t.forkedFrom()).putPOJO("prepare", t.prepare()), "IMAGE",
                        (out, t) -> SavedListing.row(out, t.name(), t.spec().image(), t.spec(), t.sizeBytes(), t.createdAt()));
                return 0;
            }
        }
    }

    @Command(name = "rm", description = "Removes templates; refused while a VM is a clone of one.")
    static final class Rm implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", arity = "1..*")
        List<String> names;

        @Override
        public Integer call() {
            try (SmartVm svm = Session.open()) {
                names.forEach(svm::removeTemplate);
                return 0;
            }
        }
    }
}

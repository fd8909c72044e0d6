package dev.smartvm.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.ImageInfo;
import dev.smartvm.Images;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "images", description = "Lists, fetches and removes images.",
        subcommands = {ImagesCommand.Ls.class, ImagesCommand.Pull.class, ImagesCommand.Build.class, ImagesCommand.Rm.class,
                ImagesCommand.Prune.class})
final class ImagesCommand {
    private ImagesCommand() {
    }

    /** The SmartVm of this home, its base images reporting downloads to stderr. */
    static SmartVm open(CommandSpec spec) {
        PrintWriter err = spec.commandLine().getErr();
        ProgressBar bar = new ProgressBar(err, ProgressBar.stderrIsTerminal());
        return Session.builder().downloads(bar).notices(msg -> {
            err.println(msg);
            err.flush();
        }).build();
    }

    @Command(name = "ls", description = "The default images built here and the cached base images.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "One JSON array.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (SmartVm svm = open(spec)) {
                List<ImageInfo> images = svm.images().list();
                if (json) {
                    ArrayNode arr = CliJson.array();
                    for (ImageInfo i : images) {
                        ObjectNode o = arr.addObject().put("id", i.id()).put("kind", i.kind());
                        i.details().forEach((k, v) -> o.set(k, CliJson.MAPPER.valueToTree(v)));
                    }
                    out.println(CliJson.text(arr));
                } else {
                    String fmt = "%-40s %-8s %s%n";
                    out.printf(fmt, "ID", "KIND", "WHAT");
                    for (ImageInfo i : images) {
                        out.printf(fmt, i.id(), i.kind(), i.summary());
                    }
                }
                out.flush();
                return 0;
            }
        }
    }

    @Command(name = "pull", description = {"Fetches an image into the cache and prints its id: 'default' (built from",
            "Debian packages), hosted:<manifest path or URL>, firecracker-ci:lts|latest, or an OCI reference",
            "(registry/repo:tag, repo@sha256:...)."})
    static final class Pull implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "REF")
        String ref;

        @Override
        public Integer call() {
            try (SmartVm svm = open(spec)) {
                String id = svm.images().pull(ref).id();
                spec.commandLine().getOut().println(id);
                spec.commandLine().getOut().flush();
                return 0;
            }
        }
    }

    @Command(name = "build", description = {"Builds a Debian root filesystem with mmdebstrap and prints its directory, which",
            "--image takes ('--image debian[:SUITE]' builds or reuses one with python3)."})
    static final class Build implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "debian", description = "What to build (only debian for now).")
        String what;

        @Option(names = "--suite", paramLabel = "SUITE", description = "Debian suite (default ${DEFAULT-VALUE}).")
        String suite = Images.DEFAULT_DEBIAN_SUITE;

        @Option(names = "--package", paramLabel = "PKG", description = "A package to include (repeatable; default python3).")
        List<String> packages;

        @Option(names = "--mirror", paramLabel = "URL", description = "Debian mirror (default ${DEFAULT-VALUE}).")
        String mirror = Images.DEFAULT_DEBIAN_MIRROR;

        @Option(names = "--rebuild", description = "Build again even when a build with these inputs exists.")
        boolean rebuild;

        @Override
        public Integer call() {
            if (!what.equals("debian")) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "can only build 'debian'; found '" + what + "'");
            }
            try (SmartVm svm = open(spec)) {
                spec.commandLine().getOut().println(svm.images().buildDebian(suite,
                        packages == null ? Images.DEFAULT_DEBIAN_PACKAGES : packages, mirror, rebuild));
                spec.commandLine().getOut().flush();
                return 0;
            }
        }
    }

    @Command(name = "rm", description = "Removes cached base images or built default images by id.")
    static final class Rm implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", arity = "1..*")
        List<String> ids;

        @Override
        public Integer call() {
            try (SmartVm svm = open(spec)) {
                List<String> unknown = new ArrayList<>();
                for (String id : ids) {
                    if (!svm.images().remove(id)) {
                        unknown.add(id);
                    }
                }
                if (!unknown.isEmpty()) {
                    throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "no image " + String.join(", ", unknown)
                            + "; 'smartvm images ls' lists them");
                }
                return 0;
            }
        }
    }

    @Command(name = "prune", description = {"Evicts the least recently used base images beyond the limit, and default",
            "images that a newer build replaced; prints what it removed."})
    static final class Prune implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--max", paramLabel = "N", description = "How many base images to keep (default ${DEFAULT-VALUE}).")
        int max = Images.DEFAULT_MAX_BASE_IMAGES;

        @Override
        public Integer call() {
            try (SmartVm svm = open(spec)) {
                List<String> removed = svm.images().prune(max);
                removed.forEach(spec.commandLine().getOut()::println);
                spec.commandLine().getOut().flush();
                return 0;
            }
        }
    }
}

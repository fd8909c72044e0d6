package dev.smartvm.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.image.BaseImageBundle;
import dev.smartvm.internal.image.BaseImageManager;
import dev.smartvm.internal.image.DebianRootfs;
import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.image.ImageStore;
import dev.smartvm.internal.image.OciImages;
import dev.smartvm.internal.image.OciReference;
import dev.smartvm.internal.io.Json;
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
        return Session.builder().downloads(bar).baseImages(BaseImageManager.create(msg -> {
            err.println(msg);
            err.flush();
        }).withDownloadListener(bar)).build();
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
                List<ImageBundle> built = svm.images().builtImages();
                List<BaseImageBundle> base = svm.images().baseImages().list();
                List<OciImages.OciImage> oci = svm.images().ociImages().list();
                if (json) {
                    ArrayNode arr = Json.MAPPER.createArrayNode();
                    for (ImageBundle b : built) {
                        arr.addObject().put("id", b.id()).put("kind", "default").put("dir", b.kernel().getParent().toString())
                                .put("description", b.description());
                    }
                    for (BaseImageBundle b : base) {
                        ObjectNode o = arr.addObject().put("id", b.bundleId()).put("kind", b.preset())
                                .put("dir", b.bundleDir().toString()).put("source", b.source())
                                .put("rootfsType", b.rootfsType()).put("readOnly", b.readOnly())
                                .put("lastAccessedAt", b.lastAccessedAt().toString());
                        o.set("versions", Json.MAPPER.valueToTree(b.versions()));
                    }
                    for (OciImages.OciImage i : oci) {
                        arr.addObject().put("id", i.digest().substring(7, 19)).put("kind", "oci").put("reference", i.reference())
                                .put("digest", i.digest()).put("rootDisk", i.rootDisk().toString())
                                .put("pulledAt", i.pulledAt().toString());
                    }
                    out.println(Json.MAPPER.writeValueAsString(arr));
                } else {
                    String fmt = "%-40s %-8s %s%n";
                    out.printf(fmt, "ID", "KIND", "WHAT");
                    for (ImageBundle b : built) {
                        out.printf(fmt, b.id(), "default", b.description());
                    }
                    for (BaseImageBundle b : base) {
                        out.printf(fmt, b.bundleId(), b.preset(), b.source() + " (used " + b.lastAccessedAt() + ")");
                    }
                    for (OciImages.OciImage i : oci) {
                        out.printf(fmt, i.digest().substring(7, 19), "oci", i.reference() + " (" + i.digest() + ")");
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
                String id;
                if (ref.startsWith(ImageStore.HOSTED_PREFIX)) {
                    id = svm.images().baseImages().ensureBaseImage(BaseImageManager.HOSTED,
                            ref.substring(ImageStore.HOSTED_PREFIX.length())).bundleId();
                } else if (ref.startsWith(ImageStore.FIRECRACKER_CI_PREFIX)) {
                    id = svm.images().baseImages().ensureBaseImage(ref.substring(ImageStore.FIRECRACKER_CI_PREFIX.length()),
                            null).bundleId();
                } else if (ref.equals("default")) {
                    id = svm.images().resolve(ref).id();
                } else {
                    id = svm.images().ociImages().pull(OciReference.parse(ref)).digest().substring(7, 19);
                }
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
        String suite = DebianRootfs.DEFAULT_SUITE;

        @Option(names = "--package", paramLabel = "PKG", description = "A package to include (repeatable; default python3).")
        List<String> packages;

        @Option(names = "--mirror", paramLabel = "URL", description = "Debian mirror (default ${DEFAULT-VALUE}).")
        String mirror = DebianRootfs.DEFAULT_MIRROR;

        @Option(names = "--rebuild", description = "Build again even when a build with these inputs exists.")
        boolean rebuild;

        @Override
        public Integer call() {
            if (!what.equals("debian")) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "can only build 'debian'; found '" + what + "'");
            }
            try (SmartVm svm = open(spec)) {
                DebianRootfs.Build b = svm.images().debian().ensure(suite, packages == null ? DebianRootfs.DEFAULT_PACKAGES : packages,
                        mirror, rebuild);
                spec.commandLine().getOut().println(b.rootDisk().getParent());
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
                    boolean removed = svm.images().baseImages().remove(id) || svm.images().removeBuilt(id)
                            || svm.images().ociImages().remove(id);
                    if (!removed) {
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
        int max = BaseImageManager.DEFAULT_MAX_STORED;

        @Override
        public Integer call() {
            try (SmartVm svm = open(spec)) {
                List<String> removed = new ArrayList<>(svm.images().baseImages().withLimit(max).pruneBaseImageCache(null));
                removed.addAll(svm.images().pruneOldBuilds());
                removed.forEach(spec.commandLine().getOut()::println);
                spec.commandLine().getOut().flush();
                return 0;
            }
        }
    }
}

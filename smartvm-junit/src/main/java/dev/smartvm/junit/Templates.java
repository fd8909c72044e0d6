package dev.smartvm.junit;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.TemplateInfo;
import dev.smartvm.VmSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The templates of {@link SandboxTemplate}s, made when missing and reused otherwise. A
 * template is saved as {@code NAME-<10 hex of the hash of its inputs>}: the image's id (which
 * changes with SmartVM's agent for the default image), the default image's id (whose agent and
 * kernel every image boots with), CPUs, memory, environment and prepare commands.
 */
final class Templates {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,51}");
    private static final Object MAKING = new Object();

    private Templates() {
    }

    /**
     * The template to clone for {@code name}: a {@link SandboxTemplate} of the test class (or of
     * a class enclosing it), made if missing; else {@code name} itself, a template of the home.
     */
    static String resolve(ExtensionContext context, SmartVm svm, String name) {
        Optional<SandboxTemplate> declared = declared(context, name);
        if (declared.isEmpty()) {
            return name;
        }
        SandboxTemplate t = declared.get();
        // once per run and declaration: its inputs' hash resolves images, which no clone's start should repeat
        return context.getRoot().getStore(Sandboxes.NAMESPACE).getOrComputeIfAbsent(List.of("template", t), k -> {
            VmSpec spec = spec(t);
            return ensure(svm, t, spec, name + "-" + inputsHash(svm, t, spec));
        }, String.class);
    }

    private static Optional<SandboxTemplate> declared(ExtensionContext context, String name) {
        for (Class<?> c = context.getRequiredTestClass(); c != null; c = c.getEnclosingClass()) {
            for (SandboxTemplate t : AnnotationSupport.findRepeatableAnnotations(c, SandboxTemplate.class)) {
                if (t.name().equals(name)) {
                    if (!NAME.matcher(name).matches()) {
                        throw new ExtensionConfigurationException("@SandboxTemplate name is 1 to 52 letters, digits, '_', '.'"
                                + " or '-', starting with a letter or digit; found '" + name + "'");
                    }
                    return Optional.of(t);
                }
            }
        }
        return Optional.empty();
    }

    private static VmSpec spec(SandboxTemplate t) {
        VmSpec.Builder b = VmSpec.builder();
        if (!t.image().isEmpty()) {
            b.image(t.image());
        }
        if (t.cpus() > 0) {
            b.cpus(t.cpus());
        }
        if (t.memoryMib() > 0) {
            b.memoryMib(t.memoryMib());
        }
        return b.env(Sandboxes.env(t.env(), "@SandboxTemplate")).build();
    }

    /** Makes the template unless it exists (another JVM may be making it too), then removes this name's older ones nothing clones. */
    private static String ensure(SmartVm svm, SandboxTemplate t, VmSpec spec, String saved) {
        synchronized (MAKING) {
            if (svm.templates().stream().noneMatch(info -> info.name().equals(saved))) {
                try {
                    svm.createTemplate(saved, spec, List.of(t.prepare()));
                } catch (SmartVmException e) {
                    if (e.code() != ErrorCode.NAME_IN_USE) {
                        throw new SmartVmException(e.code(), "@SandboxTemplate '" + t.name() + "' could not be made: "
                                + e.getMessage(), e);
                    }
                }
            }
            Pattern older = Pattern.compile(Pattern.quote(t.name()) + "-[0-9a-f]{10}");
            for (TemplateInfo info : svm.templates()) {
                if (older.matcher(info.name()).matches() && !info.name().equals(saved)) {
                    try {
                        svm.removeTemplate(info.name());
                    } catch (SmartVmException e) {
                        // TEMPLATE_IN_USE (another run clones it) or removed meanwhile: left for later
                    }
                }
            }
            return saved;
        }
    }

    private static String inputsHash(SmartVm svm, SandboxTemplate t, VmSpec spec) {
        List<String> inputs = new ArrayList<>();
        inputs.add(svm.images().pull(t.image().isEmpty() ? "default" : t.image()).id());
        inputs.add(t.image().isEmpty() ? "" : svm.images().pull("default").id());
        inputs.add(spec.cpus() + " " + spec.memoryMib() + " " + spec.env());
        inputs.addAll(List.of(t.prepare()));
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(String.join("\n", inputs).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, 10);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.smartvm.internal.vm;

import dev.smartvm.Acceleration;
import dev.smartvm.AdmissionPolicy;
import dev.smartvm.DownloadListener;
import dev.smartvm.ExecRequest;
import dev.smartvm.NameResolver;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import dev.smartvm.internal.firecracker.FirecrackerBackend;
import dev.smartvm.internal.image.ImageStore;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.net.HostNetwork;
import dev.smartvm.internal.qemu.AccelerationProbe;
import dev.smartvm.internal.qemu.QemuBackend;
import dev.smartvm.internal.smolvm.SmolvmBackend;
import dev.smartvm.internal.snapshot.SavedStore;
import dev.smartvm.spi.Backend;
import dev.smartvm.spi.BackendProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

/** Opens a home: what its VMs need ({@link VmContext}), once what dead processes left there is cleaned up. */
public final class Homes {
    private Homes() {
    }

    /** What a SmartVm's builder says of a home. */
    public record Settings(Path home, Path imagesDir, CommandRunner runner, Consumer<String> notices,
            DownloadListener downloads, NameResolver resolver, AdmissionPolicy admission,
            List<Function<Path, Backend>> engines, boolean reap) {
        public Settings {
            home = home.toAbsolutePath(); // a VMM runs in its VM's directory: no path it is given may be relative
            imagesDir = imagesDir == null ? null : imagesDir.toAbsolutePath();
        }
    }

    /**
     * The context of {@code s.home()}'s VMs, after reaping what dead processes left (orphan VMs,
     * half-made snapshots and templates) unless told not to.
     *
     * @param released told when a VM handle is let go of
     */
    public static VmContext open(Settings s, Consumer<String> released) {
        Path home = s.home();
        ImageStore images = new ImageStore(s.imagesDir() != null ? s.imagesDir() : home.resolve("images"), s.runner(),
                s.notices(), s.downloads());
        AccelerationProbe probe = AccelerationProbe.forHost(home.resolve("accel.json"));
        Map<String, Backend> backends = new HashMap<>();
        List<Function<Path, Backend>> engines = new ArrayList<>(List.of(h -> QemuBackend.fromEnvironment(h.resolve("bin")),
                h -> FirecrackerBackend.fromEnvironment(h.resolve("firecracker"), s.notices()), h -> SmolvmBackend.fromEnvironment()));
        for (BackendProvider provider : ServiceLoader.load(BackendProvider.class, Homes.class.getClassLoader())) {
            engines.add(provider::create); // an engine in a jar of its own
        }
        engines.addAll(s.engines()); // the builder's replace the defaults of their names
        for (Function<Path, Backend> make : engines) {
            Backend engine = make.apply(home);
            backends.put(engine.name(), engine);
        }
        VmContext[] opened = new VmContext[1];
        BooleanSupplier kvmProbe = () -> kvmBoots(opened[0], s.notices()); // asked at a boot, once the context exists
        VmContext context = new VmContext(new VmStore(home.resolve("vms")), Map.copyOf(backends), images, requested -> {
            AccelerationProbe.Verdict v = probe.decide(requested, kvmProbe);
            if (v.fresh() && v.acceleration() == Acceleration.TCG) {
                s.notices().accept("notice: using TCG, not KVM: " + v.reason());
            }
            return v.acceleration();
        }, released, HostNetwork.forHost(s.runner()), s.resolver(), new Admission(s.admission()),
                SavedStore.snapshots(home.resolve("snapshots")), SavedStore.templates(home.resolve("templates")));
        opened[0] = context;
        if (s.reap()) {
            Reaper.reapOrphans(context, s.notices());
            context.snapshots().reapPartials(); // what a save cut short left
            context.templates().reapPartials();
        }
        return context;
    }

    /** System property {@code property}, else environment variable {@code env}, if set and not blank. */
    public static java.util.Optional<String> setting(String property, String env) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(v);
    }

    /** A short boot under KVM that must reach the guest agent (once per host kernel). */
    private static boolean kvmBoots(VmContext context, Consumer<String> notices) {
        notices.accept("probing whether KVM works here (once per host kernel)...");
        VmSpec probe = VmSpec.builder().acceleration(Acceleration.KVM).bootTimeout(Duration.ofSeconds(20)).build();
        ProcessHandle self = ProcessHandle.current();
        VmLifecycle life = VmCreation.create(context, probe, self.pid(), self.info().startInstant().orElse(null));
        try {
            life.start();
            return life.requireAgent("probe").run(ExecRequest.of("true")).exitCode() == 0;
        } catch (SmartVmException e) {
            return false;
        } finally {
            life.remove();
        }
    }
}

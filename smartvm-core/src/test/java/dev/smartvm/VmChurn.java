package dev.smartvm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One worker of {@link ConcurrencyIT}: creates a VM, starts it, runs a command, copies a file in
 * and out, and removes it. A start the host cannot carry now (HOST_OVERCOMMITTED) is tried again
 * after a pause: that refusal is the admission policy working, not a failure. Run in the test's
 * threads, and as {@link #main} in processes of their own.
 */
final class VmChurn {
    private VmChurn() {
    }

    /** One VM's whole life; throws on anything but the checks passing. */
    static void once(SmartVm svm, String name, Path scratch) throws IOException, InterruptedException {
        MicroVm vm = svm.create(VmSpec.builder().name(name).build());
        try {
            startAdmitted(vm);
            ExecResult r = vm.exec("echo", name);
            if (r.exitCode() != 0 || !r.stdout().equals(name + "\n")) {
                throw new AssertionError(name + ": exec gave " + r.exitCode() + " '" + r.stdout() + "' '" + r.stderr() + "'");
            }
            Path in = Files.writeString(scratch.resolve(name + ".in"), "payload of " + name);
            vm.copyTo(in, "/tmp/payload");
            Path out = scratch.resolve(name + ".out");
            vm.copyFrom("/tmp/payload", out);
            if (!Files.readString(out, StandardCharsets.UTF_8).equals("payload of " + name)) {
                throw new AssertionError(name + ": the copy came back changed");
            }
        } finally {
            vm.remove();
        }
    }

    private static void startAdmitted(MicroVm vm) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (true) {
            try {
                vm.start();
                return;
            } catch (SmartVmException e) {
                if (e.code() != ErrorCode.HOST_OVERCOMMITTED || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200 + (long) (Math.random() * 300));
            }
        }
    }

    /** Arguments: home, images directory, a name prefix, how many VMs one after another. */
    public static void main(String[] args) throws Exception {
        Path scratch = Files.createTempDirectory("churn");
        try (SmartVm svm = SmartVm.builder().home(Path.of(args[0])).imagesDir(Path.of(args[1])).build()) {
            for (int i = 0; i < Integer.parseInt(args[3]); i++) {
                once(svm, args[2] + "-" + i, scratch);
            }
        }
        System.out.println("churned");
    }
}

package dev.smartvm;

import java.nio.file.Path;

/**
 * Run by {@link CrashSafetyIT} in a JVM of its own, which the test kills with SIGKILL while it
 * starts a VM. Arguments: home, images directory, {@code owned} or {@code detached}.
 */
public final class StartInChild {
    private StartInChild() {
    }

    public static void main(String[] args) throws Exception {
        SmartVm svm = SmartVm.builder().home(Path.of(args[0])).imagesDir(Path.of(args[1])).build();
        if (args[2].equals("owned")) {
            svm.start(VmSpec.builder().name("child").build());
        } else {
            MicroVm vm = svm.create(VmSpec.builder().name("child").build());
            vm.detach();
            svm.get("child").orElseThrow().start();
        }
        System.out.println("started");
        Thread.sleep(Long.MAX_VALUE);
    }
}

package dev.smartvm;

import java.nio.file.Path;

/**
 * Run by {@link CrashSafetyIT} in a JVM of its own, which the test kills with SIGKILL while it
 * starts a VM, or while it saves snapshots of one. Arguments: home, images directory,
 * {@code owned}, {@code networked} (owned, on the bridge, a port published), {@code detached}, {@code snapshotting}, {@code templating} (templates made and
 * cloned, one after another) or {@code forking} (one VM forked again and again).
 */
public final class StartInChild {
    private StartInChild() {
    }

    public static void main(String[] args) throws Exception {
        SmartVm svm = SmartVm.builder().home(Path.of(args[0])).imagesDir(Path.of(args[1])).build();
        if (args[2].equals("snapshotting")) {
            MicroVm vm = svm.start(VmSpec.builder().name("child").build());
            System.out.println("started");
            for (int i = 0; ; i++) {
                vm.snapshot("s" + i);
            }
        }
        if (args[2].equals("templating")) {
            System.out.println("started");
            for (int i = 0; ; i++) {
                svm.createTemplate("t" + i, VmSpec.builder().build(), java.util.List.of("true"));
                try (MicroVm clone = svm.start(VmSpec.builder().template("t" + i).build())) {
                    clone.exec("true");
                }
            }
        }
        if (args[2].equals("forking")) {
            MicroVm vm = svm.start(VmSpec.builder().name("child").build());
            System.out.println("started");
            while (true) {
                vm.fork(1).forEach(MicroVm::close);
            }
        }
        if (args[2].equals("networked")) {
            svm.start(VmSpec.builder().name("child").network(NetworkSpec.enabled(java.util.List.of(), java.util.List.of("10.9.9.9"))
                    .publishing(java.util.List.of("18097:80"))).build());
        } else if (args[2].equals("owned")) {
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

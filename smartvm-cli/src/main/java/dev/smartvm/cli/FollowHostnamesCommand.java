package dev.smartvm.cli;

import dev.smartvm.MicroVm;
import dev.smartvm.NetworkSpec;
import dev.smartvm.SmartVm;
import dev.smartvm.VmInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * The process that keeps a left-running VM's allow-listed hostnames resolved on their TTL once
 * the CLI that started it has exited ({@link SmartVm#followHostnames}); it ends with the VM.
 * Started by {@link #spawnFor}, in its own session, logging to the VM's {@code follower.log}.
 */
@Command(name = "follow-hostnames", hidden = true, description = "Keeps a VM's hostname rules resolved until it stops.")
final class FollowHostnamesCommand implements Callable<Integer> {
    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() throws InterruptedException {
        try (SmartVm svm = Session.open()) {
            svm.followHostnames(id);
            return 0;
        }
    }

    /** Starts a follower for a VM this CLI leaves running, when its egress rules name hosts. */
    static void spawnFor(MicroVm vm) {
        VmInfo info = vm.info();
        if (info.network() == null || info.network().mode() != NetworkSpec.Mode.BRIDGE || !info.spec().network().namesHosts()) {
            return;
        }
        List<String> argv = new ArrayList<>(List.of("setsid",
                ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "follow-hostnames", info.id()));
        try {
            new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectErrorStream(true).redirectOutput(info.stateDir().resolve("follower.log").toFile()).start();
        } catch (IOException e) {
            System.err.println("warning: cannot start the process that keeps " + info.name() + "'s hostnames resolved ("
                    + e.getMessage() + "); their addresses stay as resolved now");
        }
    }
}

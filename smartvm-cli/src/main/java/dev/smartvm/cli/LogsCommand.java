package dev.smartvm.cli;

import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "logs", description = "Prints a VM's serial console of its current or last boot.")
final class LogsCommand implements Callable<Integer> {
    private static final long POLL_MS = 200;

    @Parameters(paramLabel = "NAME")
    String name;

    @Option(names = {"-f", "--follow"}, description = {"Keep printing what the console writes, until the VM is no longer",
            "starting, running or paused (or Ctrl-C)."})
    boolean follow;

    @Override
    public Integer call() throws Exception {
        try (SmartVm svm = Session.open()) {
            MicroVm vm = Session.find(svm, name);
            Path log = vm.consoleLog();
            long printed = 0;
            for (;;) {
                boolean active = isActive(vm); // read before the file: what it wrote before stopping is printed
                printed = printFrom(log, printed, System.out);
                if (!follow || !active) {
                    return 0;
                }
                Thread.sleep(POLL_MS);
            }
        }
    }

    /** Whether the VM may still write to its console; a VM removed meanwhile does not. */
    private static boolean isActive(MicroVm vm) {
        try {
            return vm.state().isActive();
        } catch (SmartVmException e) {
            return false;
        }
    }

    /**
     * Prints the log from {@code offset} to its end, streamed (a console log can be far larger
     * than the heap); returns the new offset. A log that shrank was rotated (the console ring
     * moved it to {@code console.log.1}): it is printed from its start.
     */
    static long printFrom(Path log, long offset, OutputStream out) throws IOException {
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ)) {
            long pos = ch.size() < offset ? 0 : offset;
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            int n;
            while ((n = ch.read(buf, pos)) > 0) {
                out.write(buf.array(), 0, n);
                pos += n;
                buf.clear();
            }
            out.flush();
            return pos;
        } catch (NoSuchFileException e) {
            return 0; // not booted yet
        }
    }
}

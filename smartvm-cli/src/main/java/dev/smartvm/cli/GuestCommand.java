package dev.smartvm.cli;

import dev.smartvm.ExecProcess;
import dev.smartvm.ExecRequest;
import dev.smartvm.ExitStatus;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.TerminalSize;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Runs one guest command with its streams joined to this process's stdin, stdout and stderr. */
final class GuestCommand {
    private GuestCommand() {
    }

    /** The guest command; a {@code --} that separates it from NAME is not part of it. */
    static ExecRequest request(List<String> command, Map<String, String> env, String workdir, Duration timeout, int uid) {
        List<String> argv = !command.isEmpty() && command.get(0).equals("--") ? command.subList(1, command.size()) : command;
        if (argv.isEmpty()) {
            throw new dev.smartvm.SmartVmException(dev.smartvm.ErrorCode.INVALID_ARGUMENT, "no command given after --");
        }
        return new ExecRequest(argv, env, workdir, timeout, null, uid);
    }

    /** Opens this process's terminal for {@code -t} before anything is created; null without -t. */
    static HostTerminal terminal(GuestOptions options) {
        return options.tty ? HostTerminal.open() : null;
    }

    /** Runs CMD on a guest terminal of {@code host}'s size, its resizes passed on; with -i, the keys typed. */
    static int runOnTerminal(MicroVm vm, ExecRequest request, HostTerminal host, boolean interactive) {
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        TerminalSize size = host.size();
        String term = System.getenv("TERM"); // the guest's terminal speaks what this one does, as under docker -t
        ExecRequest onTerminal = term != null && !term.isEmpty() && !request.env().containsKey("TERM")
                ? request.withEnv("TERM", term) : request;
        try (ExecProcess p = vm.spawn(onTerminal.withPty(size.columns(), size.rows()))) {
            host.onResize(s -> {
                try {
                    p.resize(s.columns(), s.rows());
                } catch (SmartVmException e) {
                    // the command ended meanwhile
                }
            });
            if (interactive) {
                host.enterRawMode();
                Thread.ofPlatform().daemon().name("smartvm-keys").start(() -> copy(host.input(), p.stdin(), false));
            }
            Thread pumpOut = Thread.ofPlatform().start(() -> copy(p.stdout(), out, false));
            ExitStatus status = p.waitFor(Duration.ofDays(3650));
            join(pumpOut);
            return status.code();
        } finally {
            host.close(); // cooked again before anything else prints (run --keep's "kept VM")
        }
    }

    static int run(MicroVm vm, ExecRequest request, boolean interactive) {
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        OutputStream err = new FileOutputStream(FileDescriptor.err);
        if (!interactive) {
            return vm.exec(request, out, err).code();
        }
        try (ExecProcess p = vm.spawn(request)) {
            Thread pumpIn = Thread.ofPlatform().daemon().start(() -> copy(System.in, p.stdin(), true));
            Thread pumpOut = Thread.ofPlatform().start(() -> copy(p.stdout(), out, false));
            Thread pumpErr = Thread.ofPlatform().start(() -> copy(p.stderr(), err, false));
            ExitStatus status = p.waitFor(Duration.ofDays(3650));
            join(pumpOut);
            join(pumpErr);
            pumpIn.interrupt();
            return status.code();
        }
    }

    private static void copy(InputStream in, OutputStream out, boolean closeOut) {
        byte[] buf = new byte[64 * 1024];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // the other side ended
        } finally {
            if (closeOut) {
                try {
                    out.close();
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

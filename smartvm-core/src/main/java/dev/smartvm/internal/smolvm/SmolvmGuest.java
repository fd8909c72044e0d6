package dev.smartvm.internal.smolvm;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecProcess;
import dev.smartvm.ExecRequest;
import dev.smartvm.ExecResult;
import dev.smartvm.ExitStatus;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.FileTrees;
import dev.smartvm.spi.Guest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A smolvm guest reached through smolvm's CLI. Commands run with {@code machine exec}; stdin
 * bytes are copied into the guest first and redirected by the guest's {@code sh}. Files move
 * one at a time with {@code machine cp}; a directory is walked (on the host going in, with the
 * guest's {@code find} coming out) and recreated with {@code mkdir -p}.
 */
final class SmolvmGuest implements Guest {
    private final SmolvmCli cli;
    private final String name;
    private volatile boolean closed;

    SmolvmGuest(SmolvmCli cli, String name) {
        this.cli = cli;
        this.name = name;
    }

    private static List<String> env(ExecRequest r) {
        return r.env().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    private static void checkNoTerminal(ExecRequest request) {
        if (request.pty() != null) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "smolvm's exec has no terminal (no -t); run terminal"
                    + " sessions on the qemu or firecracker backend");
        }
    }

    private static void checkUser(ExecRequest r) {
        if (r.uid() != -1) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "smolvm runs commands as its guest's user; it takes no --user");
        }
    }

    /** The command, reading {@code stdin} from a guest file when it has one (which {@code cleanup} removes). */
    private List<String> withStdin(ExecRequest r, List<String> cleanup) {
        if (r.stdin() == null) {
            return r.command();
        }
        String file = "/tmp/.smartvm-stdin-" + UUID.randomUUID();
        Path local = null;
        try {
            local = Files.createTempFile("smartvm-stdin-", "");
            Files.write(local, r.stdin());
            cli.cp(local.toString(), name + ":" + file);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot stage stdin: " + e.getMessage(), e);
        } finally {
            if (local != null) {
                FileTrees.deleteQuietly(local);
            }
        }
        cleanup.add(file);
        List<String> argv = new ArrayList<>(List.of("sh", "-c", "exec \"$@\" < \"$0\"", file));
        argv.addAll(r.command());
        return argv;
    }

    /** A helper command of SmartVM's own in the guest: no env, workdir or timeout of the user's. */
    private ExecResult plain(List<String> command) {
        return cli.exec(name, List.of(), null, null, command);
    }

    private void removeGuestFiles(List<String> files) {
        if (!files.isEmpty()) {
            List<String> rm = new ArrayList<>(List.of("rm", "-f"));
            rm.addAll(files);
            plain(rm);
        }
    }

    @Override
    public ExecResult run(ExecRequest request) {
        checkUser(request);
        checkNoTerminal(request);
        List<String> cleanup = new ArrayList<>();
        try {
            return cli.exec(name, env(request), request.workdir(), request.timeout(), withStdin(request, cleanup));
        } finally {
            removeGuestFiles(cleanup);
        }
    }

    @Override
    public ExecProcess start(ExecRequest request, boolean withStdin, OutputStream stdout, OutputStream stderr) {
        checkUser(request);
        checkNoTerminal(request);
        if (withStdin) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "smolvm's exec has no open stdin; pass the input as bytes"
                    + " (ExecRequest.withStdin)");
        }
        List<String> cleanup = new ArrayList<>();
        Process p = cli.execStreaming(name, env(request), request.workdir(), request.timeout(), withStdin(request, cleanup));
        return new StreamedExec(p, stdout, stderr, request.timeout() != null, () -> removeGuestFiles(cleanup));
    }

    @Override
    public dev.smartvm.GuestFiles files() {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "smolvm has no files API (its CLI copies one file at a time,"
                + " and cannot list, stat or watch): use copyTo/copyFrom or exec, or the qemu or firecracker backend");
    }

    /** A {@code machine exec --stream} process as an {@link ExecProcess}. */
    private static final class StreamedExec implements ExecProcess {
        private final Process process;
        private final boolean hasTimeout;
        private final Runnable cleanup;
        private final List<Thread> pumps = new ArrayList<>();
        private volatile boolean done;

        StreamedExec(Process process, OutputStream stdout, OutputStream stderr, boolean hasTimeout, Runnable cleanup) {
            this.process = process;
            this.hasTimeout = hasTimeout;
            this.cleanup = cleanup;
            if (stdout != null) {
                pumps.add(pump(process.getInputStream(), stdout));
            }
            if (stderr != null) {
                pumps.add(pump(process.getErrorStream(), stderr));
            }
        }

        private static Thread pump(InputStream in, OutputStream out) {
            return Thread.ofVirtual().start(() -> {
                try (in) {
                    in.transferTo(out);
                    out.flush();
                } catch (IOException ignored) {
                    // the process went away or the reader did
                }
            });
        }

        @Override
        public OutputStream stdin() {
            return null;
        }

        @Override
        public InputStream stdout() {
            return process.getInputStream();
        }

        @Override
        public InputStream stderr() {
            return process.getErrorStream();
        }

        @Override
        public ExitStatus waitFor(Duration timeout) {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new SmartVmException(ErrorCode.TIMEOUT, "the command did not end within " + timeout);
                }
                for (Thread t : pumps) {
                    t.join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for a command", e);
            }
            finish();
            int code = process.exitValue();
            return new ExitStatus(code, 0, hasTimeout && code == SmolvmCli.TIMEOUT_EXIT);
        }

        @Override
        public void signal(int signal) {
            switch (signal) {
                case 15 -> process.destroy();
                case 9 -> process.destroyForcibly();
                default -> throw new SmartVmException(ErrorCode.UNSUPPORTED, "smolvm's exec can be ended (signals 9 and 15), not"
                        + " sent signal " + signal);
            }
        }

        @Override
        public void resize(int columns, int rows) {
            throw new SmartVmException(ErrorCode.INVALID_STATE, "this exec has no terminal to resize (smolvm's exec has none)");
        }

        private synchronized void finish() {
            if (!done) {
                done = true;
                cleanup.run();
            }
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
            try {
                finish();
            } catch (SmartVmException e) {
                // the machine went away with the command: its stdin file went with it
            }
        }
    }

    private boolean isGuestDirectory(String guestPath) {
        return plain(List.of("test", "-d", guestPath)).exitCode() == 0;
    }

    private static String baseName(String path) {
        Path p = Path.of(path).normalize().getFileName();
        return p == null ? "root" : p.toString();
    }

    @Override
    public long upload(Path source, String guestPath, Duration timeout) {
        requireAbsolute(guestPath);
        if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
            throw new SmartVmException(ErrorCode.PATH_NOT_FOUND, "no such file on the host: " + source);
        }
        String dest = isGuestDirectory(guestPath) ? guestPath.replaceAll("/+$", "") + "/" + source.getFileName() : guestPath;
        try {
            if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
                cli.cp(source.toString(), name + ":" + dest);
                return Files.size(source);
            }
            List<String> mkdir = new ArrayList<>(List.of("mkdir", "-p"));
            List<Path> files = new ArrayList<>();
            try (Stream<Path> all = Files.walk(source)) {
                for (Path p : all.toList()) {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        mkdir.add(guestChild(dest, source.relativize(p)));
                    } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        files.add(p);
                    }
                }
            }
            check(plain(mkdir), "mkdir");
            long bytes = 0;
            for (Path f : files) {
                cli.cp(f.toString(), name + ":" + guestChild(dest, source.relativize(f)));
                bytes += Files.size(f);
            }
            return bytes;
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot read " + source + ": " + e.getMessage(), e);
        }
    }

    private static String guestChild(String root, Path relative) {
        String r = relative.toString();
        return r.isEmpty() ? root : root.replaceAll("/+$", "") + "/" + r;
    }

    @Override
    public long download(String guestPath, Path target, Duration timeout) {
        requireAbsolute(guestPath);
        Path dest = Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS) ? target.resolve(baseName(guestPath)) : target;
        try {
            if (!isGuestDirectory(guestPath)) {
                cli.cp(name + ":" + guestPath, dest.toString());
                return Files.size(dest);
            }
            String root = guestPath.replaceAll("/+$", "");
            Files.createDirectories(dest);
            for (String d : find(root, "d")) {
                Files.createDirectories(inside(dest, root, d));
            }
            long bytes = 0;
            for (String f : find(root, "f")) {
                Path local = inside(dest, root, f);
                cli.cp(name + ":" + f, local.toString());
                bytes += Files.size(local);
            }
            return bytes;
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write " + dest + ": " + e.getMessage(), e);
        }
    }

    private List<String> find(String root, String type) {
        ExecResult r = check(plain(List.of("find", root, "-type", type)), "find");
        return r.stdout().lines().filter(l -> !l.isEmpty()).toList();
    }

    /** Where a guest path found under {@code root} lands under {@code dest}; a path that would leave it is refused. */
    private static Path inside(Path dest, String root, String guestPath) {
        if (!guestPath.equals(root) && !guestPath.startsWith(root + "/")) {
            throw new SmartVmException(ErrorCode.UNSAFE_PATH, "the guest listed '" + guestPath + "' under " + root);
        }
        Path p = dest.resolve(guestPath.substring(root.length()).replaceFirst("^/", "")).normalize();
        if (!p.startsWith(dest.normalize())) {
            throw new SmartVmException(ErrorCode.UNSAFE_PATH, "'" + guestPath + "' would land outside " + dest);
        }
        return p;
    }

    private ExecResult check(ExecResult r, String what) {
        if (r.exitCode() != 0) {
            throw new SmartVmException(ErrorCode.AGENT_ERROR, what + " in smolvm machine '" + name + "' failed: " + r.stderr().strip());
        }
        return r;
    }

    private static void requireAbsolute(String guestPath) {
        if (guestPath == null || !guestPath.startsWith("/")) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a guest path must be absolute; found '" + guestPath + "'");
        }
    }

    @Override
    public Duration ping(Duration timeout) {
        Instant t0 = Instant.now();
        check(cli.exec(name, List.of(), null, timeout, List.of("true")), "true");
        return Duration.between(t0, Instant.now());
    }

    @Override
    public void shutdown() {
        try {
            cli.stop(name);
        } catch (SmartVmException e) {
            // already stopped
        }
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    @Override
    public void close(RuntimeException reason) {
        closed = true;
    }
}

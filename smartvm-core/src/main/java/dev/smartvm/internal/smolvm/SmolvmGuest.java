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
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A smolvm guest reached through smolvm's CLI. Commands run with {@code machine exec -i
 * --stream}: the smolvm process's stdin is the command's, its output comes as it is written.
 * Files move one at a time with {@code machine cp}, which takes a path for the whole file (into
 * a directory, SmartVM names the file); a directory is walked (on the host going in, with the
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

    /** A helper command of SmartVM's own in the guest: no env, workdir or timeout of the user's. */
    private ExecResult plain(List<String> command) {
        return cli.exec(name, List.of(), null, null, command);
    }

    @Override
    public ExecResult run(ExecRequest request) {
        checkUser(request);
        checkNoTerminal(request);
        if (request.stdin() == null) {
            return cli.exec(name, env(request), request.workdir(), request.timeout(), request.command());
        }
        Instant started = Instant.now();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        try (ExecProcess p = start(request, true, out, err)) {
            try (OutputStream in = p.stdin()) {
                in.write(request.stdin());
            } catch (IOException e) {
                // the command ended without reading all of it, as it may
            }
            ExitStatus status = p.waitFor(Duration.ofDays(3650));
            return new ExecResult(status, out.toByteArray(), err.toByteArray(), Duration.between(started, Instant.now()));
        }
    }

    /** A command with its stdin open ({@code withStdin}) or empty, its output to the streams given or to be read. */
    @Override
    public ExecProcess start(ExecRequest request, boolean withStdin, OutputStream stdout, OutputStream stderr) {
        checkUser(request);
        checkNoTerminal(request);
        Process p = cli.execStreaming(name, env(request), request.workdir(), request.timeout(), request.command());
        if (!withStdin) {
            try {
                p.getOutputStream().close(); // the end of its stdin at once: a command that reads it does not wait
            } catch (IOException e) {
                // it ended already
            }
        }
        return new StreamedExec(p, stdout, stderr, withStdin, request.timeout() != null, (code, tail) -> cli.status(name,
                request.workdir(), request.timeout(), code, tail));
    }

    @Override
    public dev.smartvm.GuestFiles files() {
        throw new SmartVmException(ErrorCode.UNSUPPORTED, "smolvm has no files API (its CLI copies one file at a time,"
                + " and cannot list, stat or watch): use copyTo/copyFrom or exec, or the qemu or firecracker backend");
    }

    /** How smolvm's exit code and the end of its stderr become the command's exit status. */
    @FunctionalInterface
    private interface Outcome {
        ExitStatus of(int exit, String stderrTail);
    }

    /**
     * A {@code machine exec -i --stream} process as an {@link ExecProcess}. The end of its stderr
     * is kept as it passes (smolvm says there why a command could not be spawned); the caller
     * gets it without smolvm's timeout line ({@link TimeoutLineFilter}).
     */
    private static final class StreamedExec implements ExecProcess {
        private static final int TAIL = 4096;
        private final Process process;
        private final boolean withStdin;
        private final Outcome outcome;
        private final List<Thread> pumps = new ArrayList<>();
        private final byte[] tail = new byte[TAIL];
        private long tailed;
        private final InputStream stderr;

        StreamedExec(Process process, OutputStream stdout, OutputStream stderr, boolean withStdin, boolean timed, Outcome outcome) {
            this.process = process;
            this.withStdin = withStdin;
            this.outcome = outcome;
            InputStream kept = new java.io.FilterInputStream(process.getErrorStream()) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) {
                        keep(new byte[] {(byte) b}, 0, 1);
                    }
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) {
                        keep(b, off, n);
                    }
                    return n;
                }
            };
            this.stderr = timed ? new TimeoutLineFilter(kept) : kept; // the tail sees smolvm's line, the caller not
            if (stdout != null) {
                pumps.add(pump(process.getInputStream(), stdout));
            }
            if (stderr != null) {
                pumps.add(pump(this.stderr, stderr));
            }
        }

        private synchronized void keep(byte[] b, int off, int len) {
            for (int i = 0; i < len; i++) {
                tail[(int) (tailed++ % TAIL)] = b[off + i];
            }
        }

        private synchronized String tail() {
            int n = (int) Math.min(tailed, TAIL);
            byte[] last = new byte[n];
            for (int i = 0; i < n; i++) {
                last[i] = tail[(int) ((tailed - n + i) % TAIL)];
            }
            return new String(last, java.nio.charset.StandardCharsets.UTF_8);
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
            if (!withStdin) {
                throw new SmartVmException(ErrorCode.INVALID_STATE, "this exec was started without stdin");
            }
            return process.getOutputStream();
        }

        @Override
        public InputStream stdout() {
            return process.getInputStream();
        }

        @Override
        public InputStream stderr() {
            return stderr;
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
            return outcome.of(process.exitValue(), tail());
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

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroyForcibly();
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
        String dest = normalized(isGuestDirectory(guestPath) ? guestPath.replaceAll("/+$", "") + "/" + source.getFileName()
                : guestPath);
        try {
            if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
                copyIn(source, dest);
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
                copyIn(f, guestChild(dest, source.relativize(f)));
                bytes += Files.size(f);
            }
            return bytes;
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot read " + source + ": " + e.getMessage(), e);
        }
    }

    /**
     * One file in: smolvm takes any source with a {@code :} for a machine's, so such a host path
     * goes through a link of ours without one.
     */
    private void copyIn(Path file, String guestPath) throws IOException {
        if (!file.toString().contains(":")) {
            cli.cp(file.toString(), name + ":" + guestPath);
            return;
        }
        Path dir = Files.createTempDirectory("smartvm-cp-");
        try {
            Path link = Files.createSymbolicLink(dir.resolve("file"), file.toAbsolutePath());
            cli.cp(link.toString(), name + ":" + guestPath);
        } finally {
            FileTrees.deleteQuietly(dir);
        }
    }

    /** A guest path without {@code .} and {@code ..} (smolvm refuses them). */
    private static String normalized(String guestPath) {
        return Path.of(guestPath).normalize().toString();
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
                cli.cp(name + ":" + normalized(guestPath), dest.toString());
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

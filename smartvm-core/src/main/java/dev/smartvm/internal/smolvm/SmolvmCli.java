package dev.smartvm.internal.smolvm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.ExecResult;
import dev.smartvm.ExitStatus;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.host.Executables;
import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import dev.smartvm.internal.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code smolvm} command line, one thin method per subcommand, with the argv shapes of the
 * installed release: from 1.0.2 every machine is named with {@code --name}; before, create and
 * delete took it positionally (see {@code shared/specs/smolvm/CLI-REFERENCE.md}). The binary
 * is checked to be smolvm (its {@code --version}, and {@code machine --help} listing exec, cp
 * and create) before the first call. A non-zero exit raises {@link SmolvmException}, except
 * from {@code exec}, whose exit code is the guest command's. Every call runs without
 * {@code SMOLVM_EGRESS_ALLOW_PRIVATE} in its environment: with it, smolvm lets a machine reach
 * the metadata range, which SmartVM's egress rules never allow.
 */
public final class SmolvmCli {
    /** smolvm's exit code when {@code exec --timeout} ended the command. */
    public static final int TIMEOUT_EXIT = 124;
    /** What lifts smolvm's refusal of the metadata range (169.254.0.0/16) for the machines it starts. */
    static final String ALLOW_PRIVATE = "SMOLVM_EGRESS_ALLOW_PRIVATE";
    private static final Pattern ENV = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=.*", Pattern.DOTALL);
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration EXEC_WITHOUT_TIMEOUT = Duration.ofHours(24);
    private static final String INSTALL = "install smolvm (https://github.com/smol-machines/smolvm/releases) and put it on"
            + " PATH, or set $SMARTVM_SMOLVM to its path";

    private final String binary;
    private final CommandRunner runner;
    private volatile SmolvmVersion version;

    public SmolvmCli(String binary, CommandRunner runner) {
        this.binary = binary;
        this.runner = runner.without(java.util.Set.of(ALLOW_PRIVATE));
    }

    /** The smolvm at {@code configured} ($SMARTVM_SMOLVM), else on PATH; HOST_DEPENDENCY_MISSING without one. */
    public static SmolvmCli locate(String configured, CommandRunner runner) {
        if (configured != null && !configured.isBlank()) {
            if (!Files.isExecutable(Path.of(configured))) {
                throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "$SMARTVM_SMOLVM names " + configured
                        + ", which is not an executable file; " + INSTALL);
            }
            return new SmolvmCli(configured, runner);
        }
        return Executables.onPath("smolvm").map(p -> new SmolvmCli(p.toString(), runner)).orElseThrow(() ->
                new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "smolvm is not installed: " + INSTALL));
    }

    public String binary() {
        return binary;
    }

    /** Whether this binary is a working smolvm (never throws). */
    public boolean isAvailable() {
        try {
            version();
            return true;
        } catch (SmartVmException e) {
            return false;
        }
    }

    /** The release, asked once; an unrelated program called {@code smolvm} is refused. */
    public SmolvmVersion version() {
        SmolvmVersion v = version;
        if (v != null) {
            return v;
        }
        CommandResult r = runner.run(List.of(binary, "--version"), null, Duration.ofSeconds(30));
        v = r.exitCode() == 0 ? SmolvmVersion.parse(r.stdout()) : null;
        if (v == null) {
            throw notSmolvm("its --version said '" + (r.stdout() + r.stderr()).strip().lines().findFirst().orElse("") + "'");
        }
        CommandResult help = runner.run(List.of(binary, "machine", "--help"), null, Duration.ofSeconds(30));
        String commands = help.stdout() + help.stderr();
        for (String needed : List.of("exec", "cp", "create")) {
            if (!Pattern.compile("(?m)^\\s+" + needed + "\\b").matcher(commands).find()) {
                throw notSmolvm("'machine --help' lists no '" + needed + "' subcommand");
            }
        }
        version = v;
        return v;
    }

    private SmartVmException notSmolvm(String why) {
        return new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, binary + " is not smolvm (" + why
                + "), but another program; " + INSTALL);
    }

    private boolean named() {
        return version().atLeast(SmolvmVersion.NAMED_FLAGS);
    }

    /**
     * Packs {@code image} into {@code out} and its sidecar {@code out.smolmachine}; an {@code out}
     * ending in {@code .smolmachine} is taken without it (smolvm refuses it since 1.7.0).
     *
     * @return the sidecar, the file {@code machine create --from} takes
     */
    public Path packCreate(String image, Path out) {
        String stub = out.toString().endsWith(".smolmachine") ? out.toString().substring(0, out.toString().length() - 12)
                : out.toString();
        if (stub.isEmpty() || stub.endsWith("/")) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "'" + out + "' names no file to pack into");
        }
        call(List.of("pack", "create", "-I", image, "-o", stub), CALL_TIMEOUT);
        return Path.of(stub + ".smolmachine");
    }

    /** Creates a machine (it does not run yet). */
    public void create(MachineSpec spec) {
        String name = MachineName.check(spec.name());
        if ((spec.image() == null) == (spec.from() == null)) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "a smolvm machine needs an image or a .smolmachine, one of them");
        }
        spec.env().forEach(SmolvmCli::checkEnv);
        List<String> a = new ArrayList<>(List.of("machine", "create"));
        if (named()) {
            a.addAll(List.of("--name", name));
        }
        if (spec.image() != null) {
            a.addAll(List.of("-I", spec.image()));
        } else {
            a.addAll(List.of("--from", spec.from()));
        }
        if (spec.cpus() > 0) {
            a.addAll(List.of("--cpus", Integer.toString(spec.cpus())));
        }
        if (spec.memoryMib() > 0) {
            a.addAll(List.of("--mem", Integer.toString(spec.memoryMib())));
        }
        if (spec.net() || !spec.allowCidrs().isEmpty() || !spec.allowHosts().isEmpty()) {
            a.add("--net"); // implied by the allow rules, but said: older releases and --from want it
        }
        spec.allowCidrs().forEach(c -> a.addAll(List.of("--allow-cidr", c)));
        spec.allowHosts().forEach(h -> a.addAll(List.of("--allow-host", h)));
        spec.env().forEach(e -> a.addAll(List.of("-e", e)));
        if (spec.workdir() != null && spec.from() == null) {
            a.addAll(List.of("-w", spec.workdir()));
        }
        spec.volumes().forEach(v -> a.addAll(List.of("-v", v)));
        spec.ports().forEach(p -> a.addAll(List.of("-p", p)));
        if (!named()) {
            a.add(name);
            a.addAll(spec.command());
        } else if (!spec.command().isEmpty()) {
            a.add("--");
            a.addAll(spec.command());
        }
        call(a, CALL_TIMEOUT);
    }

    /** Starts a machine and waits (smolvm: up to 30 s) for its agent; a running one stays as it is. */
    public void start(String name) {
        start(name, false);
    }

    /**
     * Starts a machine as {@link #start(String)} does; {@code forkable} starts it as a golden
     * that {@link #fork} can fork (where this smolvm forks: {@link #canFork}).
     */
    public void start(String name, boolean forkable) {
        List<String> a = new ArrayList<>(List.of("machine", "start", "--name", MachineName.check(name)));
        if (forkable && canFork()) {
            a.add("--forkable");
        }
        call(a, CALL_TIMEOUT);
    }

    /** Whether this smolvm forks machines as SmartVM drives it ({@link SmolvmVersion#FORKS} or newer). */
    public boolean canFork() {
        return version().atLeast(SmolvmVersion.FORKS);
    }

    /**
     * {@code machine fork}: a new machine {@code child} continuing the forkable running machine
     * {@code golden}, which smolvm freezes (it stays frozen, and cannot be started or stopped,
     * while it has forks). smolvm waits up to {@code readyTimeout} for the golden's fork point
     * ({@code smolvm-fork-ready} run in it).
     */
    public void fork(String golden, String child, Duration readyTimeout) {
        if (!canFork()) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "SmartVM forks smolvm machines from smolvm " + SmolvmVersion.FORKS
                    + " on; this one is " + version());
        }
        call(List.of("machine", "fork", "--golden", MachineName.check(golden), "--name", MachineName.check(child),
                "--ready-timeout", Math.max(1, readyTimeout.toSeconds()) + "s"), CALL_TIMEOUT);
    }

    public void stop(String name) {
        call(List.of("machine", "stop", "--name", MachineName.check(name)), CALL_TIMEOUT);
    }

    /** Deletes a machine; always forced, since smolvm without a terminal cancels the deletion and still exits 0. */
    public void delete(String name) {
        MachineName.check(name);
        call(named() ? List.of("machine", "delete", "--name", name, "-f") : List.of("machine", "delete", name, "-f"),
                CALL_TIMEOUT);
    }

    /**
     * Runs {@code command} in a running machine, its stdin empty. A non-zero exit of the command
     * is its result, never an exception; a timeout is exit 124; a command smolvm cannot spawn is
     * 127 (not found) or 126 (a working directory that is not there, a file that cannot run), as
     * on SmartVM's other engines. Output is streamed ({@code --stream}: without it smolvm refuses
     * more than 11 MiB). Only smolvm's own refusals (an unknown or stopped machine) raise.
     *
     * @param timeout null for none; else whole seconds, at least 1
     */
    public ExecResult exec(String name, List<String> env, String workdir, Duration timeout, List<String> command) {
        List<String> a = execArgs(name, env, workdir, timeout, command);
        Instant started = Instant.now();
        CommandResult r = runner.run(argv(a), null, timeout == null ? EXEC_WITHOUT_TIMEOUT : timeout.plus(Duration.ofMinutes(1)));
        ExitStatus status = status(name, workdir, timeout, r.exitCode(), r.stderr());
        return new ExecResult(status, r.stdout().getBytes(StandardCharsets.UTF_8),
                SmolvmExits.commandStderr(status, r.stderr()).getBytes(StandardCharsets.UTF_8), Duration.between(started, Instant.now()));
    }

    /** The guest command's exit status from smolvm's exit and stderr (see {@link SmolvmExits}). */
    ExitStatus status(String name, String workdir, Duration timeout, int exit, String stderr) {
        return SmolvmExits.status(this, name, workdir, timeout, exit, stderr);
    }

    /**
     * Starts {@code exec -i --stream} as a process of ours, for output as it arrives and stdin as
     * it is written (the runner, which waits for the end, is not used): the process's stdin is
     * the command's. Its exit code is the guest command's (see {@link #status}).
     */
    public Process execStreaming(String name, List<String> env, String workdir, Duration timeout, List<String> command) {
        List<String> a = execArgs(name, env, workdir, timeout, command);
        try {
            ProcessBuilder pb = new ProcessBuilder(argv(a));
            pb.environment().remove(ALLOW_PRIVATE);
            return pb.start();
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "cannot run " + binary + ": " + e.getMessage(), e);
        }
    }

    /**
     * {@code machine exec}'s arguments, checked: a name smolvm takes, well-formed env entries, a
     * command. Always {@code -i} (the host's stdin is the command's: without it a streamed
     * command that reads stdin waits for ever) and {@code --stream}.
     */
    private List<String> execArgs(String name, List<String> env, String workdir, Duration timeout, List<String> command) {
        version();
        MachineName.check(name);
        env.forEach(SmolvmCli::checkEnv);
        if (command.isEmpty()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "exec needs a command");
        }
        List<String> a = new ArrayList<>(List.of("machine", "exec", "--name", name));
        env.forEach(e -> a.addAll(List.of("-e", e)));
        if (workdir != null) {
            a.addAll(List.of("-w", workdir));
        }
        if (timeout != null) {
            a.addAll(List.of("--timeout", duration(timeout)));
        }
        a.addAll(List.of("-i", "--stream", "--"));
        a.addAll(command);
        return a;
    }

    /** Copies one file; one side is {@code NAME:/abs/path}. An empty side copies nothing and calls nothing. */
    public void cp(String source, String destination) {
        if (source == null || source.isEmpty() || destination == null || destination.isEmpty()) {
            return;
        }
        call(List.of("machine", "cp", source, destination), CALL_TIMEOUT);
    }

    public List<MachineStatus> ls() {
        JsonNode arr = json(call(List.of("machine", "ls", "--json"), CALL_TIMEOUT));
        List<MachineStatus> out = new ArrayList<>();
        arr.forEach(m -> out.add(status(m)));
        return out;
    }

    public MachineStatus status(String name) {
        return status(json(call(List.of("machine", "status", "--name", MachineName.check(name), "--json"), CALL_TIMEOUT)));
    }

    /**
     * Polls {@code exec -- true} until it succeeds (the guest answers); SmolvmException naming
     * the machine when {@code timeout} passes first.
     */
    public void waitExecReady(String name, Duration timeout) throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        String last = "";
        while (true) {
            try {
                ExecResult r = exec(name, List.of(), null, null, List.of("true"));
                if (r.exitCode() == 0) {
                    return;
                }
                last = r.stderr().strip();
            } catch (SmolvmException e) {
                last = e.stderr().strip();
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new SmolvmException("smolvm machine '" + name + "' is not ready after " + timeout.toSeconds() + " s"
                        + (last.isEmpty() ? "" : ": " + last), -1, last);
            }
            Thread.sleep(200);
        }
    }

    private static MachineStatus status(JsonNode m) {
        return new MachineStatus(m.path("name").asText(), m.path("state").asText(), m.path("cpus").asInt(),
                m.path("memory_mib").asInt(), m.path("pid").asLong(), m.path("image").asText(null));
    }

    private static JsonNode json(CommandResult r) {
        try {
            return Json.MAPPER.readTree(r.stdout());
        } catch (IOException e) {
            throw new SmolvmException("smolvm printed no JSON: " + r.stdout().strip(), r.exitCode(), r.stderr());
        }
    }

    /** smolvm's DURATION: whole hours, minutes or seconds, never 0. */
    static String duration(Duration d) {
        long s = Math.max(1, (d.toMillis() + 999) / 1000);
        return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
    }

    static void checkEnv(String entry) {
        if (entry == null || !ENV.matcher(entry).matches()) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "'" + entry + "' is not an environment entry: write KEY=VALUE,"
                    + " KEY of letters, digits and '_' not starting with a digit (smolvm would drop it silently)");
        }
    }

    private List<String> argv(List<String> args) {
        List<String> a = new ArrayList<>(List.of(binary));
        a.addAll(args);
        return a;
    }

    private CommandResult call(List<String> args, Duration timeout) {
        version();
        CommandResult r = runner.run(argv(args), null, timeout);
        if (r.exitCode() != 0) {
            throw failure(r);
        }
        return r;
    }

    private static SmolvmException failure(CommandResult r) {
        String err = r.stderr().strip();
        return new SmolvmException(String.join(" ", r.argv()) + " exited with " + r.exitCode() + (err.isEmpty() ? "" : ": " + err),
                r.exitCode(), r.stderr());
    }
}

package dev.smartvm.junit;

import dev.smartvm.ErrorCode;
import dev.smartvm.ExecRequest;
import dev.smartvm.ExecResult;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

/**
 * Waits until a sandbox's checks pass: a command exits 0, something listens on a TCP port (the
 * guest's {@code /proc/net/tcp}, so no tool is needed in the image), a console line contains a
 * text. Each round tries them in that order, every 100 ms, until all pass or time runs out.
 */
final class Readiness {
    private static final Duration ROUND = Duration.ofMillis(100);
    private static final Duration LONGEST_TRY = Duration.ofSeconds(10);
    private static final Duration SHORTEST_TRY = Duration.ofSeconds(2);
    private static final int CONSOLE_TAIL = 20;

    private Readiness() {
    }

    /** @throws SmartVmException NOT_READY, saying which check failed last, with the console's last lines */
    static void await(MicroVm vm, Sandbox s, String what) {
        if (s.readyCommand().isEmpty() && s.readyPort() == 0 && s.readyLog().isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(s.readyTimeoutSeconds()).toNanos();
        while (true) {
            String failing;
            try {
                failing = failingCheck(vm, s, Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1)));
            } catch (SmartVmException e) {
                throw notReady(vm, what, "its readiness check failed: " + e.getMessage(), e);
            }
            if (failing == null) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw notReady(vm, what, "not ready within " + s.readyTimeoutSeconds() + " s: " + failing, null);
            }
            try {
                Thread.sleep(ROUND.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted while waiting for " + what, e);
            }
        }
    }

    /** The first check that does not pass, said for a human, or null when all pass. */
    private static String failingCheck(MicroVm vm, Sandbox s, Duration left) {
        if (!s.readyCommand().isEmpty()) {
            Duration limit = left.compareTo(LONGEST_TRY) > 0 ? LONGEST_TRY : left.compareTo(SHORTEST_TRY) < 0 ? SHORTEST_TRY : left;
            ExecResult r = vm.exec(ExecRequest.shell(s.readyCommand()).withTimeout(limit));
            if (r.status().timedOut()) {
                return "`" + s.readyCommand() + "` did not finish within " + limit.toSeconds() + " s";
            }
            if (r.exitCode() != 0) {
                String err = r.stderr().strip();
                return "`" + s.readyCommand() + "` exited " + r.exitCode() + (err.isEmpty() ? "" : " (" + last(err, 200) + ")");
            }
        }
        if (s.readyPort() > 0 && !listens(vm, s.readyPort())) {
            return "nothing listens on TCP port " + s.readyPort();
        }
        if (!s.readyLog().isEmpty() && consoleLines(vm).stream().noneMatch(l -> l.contains(s.readyLog()))) {
            return "no console line contains '" + s.readyLog() + "'";
        }
        return null;
    }

    /** Whether a socket of the guest listens on {@code port} (IPv4 or IPv6), from its /proc/net/tcp tables. */
    static boolean listens(MicroVm vm, int port) {
        ExecResult r = vm.exec(ExecRequest.shell("cat /proc/net/tcp /proc/net/tcp6 2>/dev/null"));
        String hex = String.format(":%04X", port);
        for (String line : r.stdout().split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 3 && f[1].endsWith(hex) && f[3].equals("0A")) { // local address, state LISTEN
                return true;
            }
        }
        return false;
    }

    private static SmartVmException notReady(MicroVm vm, String what, String why, Throwable cause) {
        List<String> lines = consoleLines(vm);
        String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - CONSOLE_TAIL), lines.size()));
        return new SmartVmException(ErrorCode.NOT_READY, what + " (VM " + vm.name() + ") was " + why
                + (tail.isBlank() ? "" : "\n--- last console lines ---\n" + tail), cause);
    }

    private static List<String> consoleLines(MicroVm vm) {
        try {
            return List.of(new String(Files.readAllBytes(vm.consoleLog()), StandardCharsets.UTF_8).split("\n"));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private static String last(String text, int chars) {
        return text.length() <= chars ? text : "..." + text.substring(text.length() - chars);
    }
}

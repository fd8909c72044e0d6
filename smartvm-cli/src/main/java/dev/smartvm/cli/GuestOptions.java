package dev.smartvm.cli;

import picocli.CommandLine.Option;

/** How the guest command itself runs, shared by {@code run} and {@code exec}. */
final class GuestOptions {
    @Option(names = {"-u", "--user"}, paramLabel = "UID", description = "Run CMD as this numeric user (default root).")
    int uid = -1;

    @Option(names = {"-i", "--interactive"}, description = "Pass this process's stdin to CMD.")
    boolean interactive;

    @Option(names = {"-t", "--tty"}, description = {"Give CMD a terminal of this terminal's size, following its resizes;"
            + " with -i this terminal is in raw mode meanwhile (every key goes to CMD) and is restored afterwards.",
            "Needs a terminal: `run -it -- sh` is a shell in the VM."})
    boolean tty;
}

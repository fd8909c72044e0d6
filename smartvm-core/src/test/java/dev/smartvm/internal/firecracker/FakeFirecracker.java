package dev.smartvm.internal.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.firecracker.FirecrackerApiSpec;
import dev.smartvm.internal.host.AgentBinary;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;

/**
 * A fake {@code firecracker} executable for the lifecycle tests (the real one cannot run here):
 * its command line parsed as Firecracker 1.16 parses it, its API served by
 * {@link FakeFirecrackerApi}, and a "guest" that is the real SmartVM agent running on the host,
 * reached through a hybrid vsock socket exactly as Firecracker serves one ({@code CONNECT <port>}
 * then {@code OK <n>}). The agent dies with this process, as a guest dies with its VMM.
 */
public final class FakeFirecracker implements FakeFirecrackerApi.Guest {
    static final String VERSION = "1.16.1";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    private static final Set<String> REAL_FLAGS_NOT_FAKED = Set.of("--no-api", "--seccomp-filter",
            "--no-seccomp", "--start-time-us", "--start-time-cpu-us", "--parent-cpu-time-us", "--log-path", "--level",
            "--module", "--show-level", "--show-log-origin", "--metrics-path", "--boot-timer", "--http-api-max-payload-size",
            "--mmds-size-limit", "--enable-pci", "--snapshot-version", "--describe-snapshot");
    private static final Pattern TRANSPORT = Pattern.compile("(?:^| )smartvm\\.transport=vsock:(\\d+)(?: |$)");

    private final Path workDir;
    private Process agent;
    private ServerSocketChannel vsock;
    private volatile boolean stopping;

    private FakeFirecracker(Path workDir) {
        this.workDir = workDir;
    }

    @SuppressWarnings("try") // the API server is held open for the block
    public static void main(String[] args) throws Exception {
        String apiSock = null;
        String configFile = null;
        String id = "anonymous-instance";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--version" -> {
                    System.out.println("Firecracker v" + VERSION);
                    System.exit(0);
                }
                case "--api-sock", "--id", "--config-file" -> {
                    if (i + 1 >= args.length) {
                        die("error: a value is required for '" + a + " <" + a.substring(2) + ">' but none was supplied");
                    }
                    switch (a) {
                        case "--api-sock" -> apiSock = args[++i];
                        case "--id" -> id = args[++i];
                        default -> configFile = args[++i];
                    }
                }
                default -> die(REAL_FLAGS_NOT_FAKED.contains(a) ? "fake firecracker: " + a + " is not faked"
                        : "error: unexpected argument '" + a + "' found");
            }
        }
        if (!ID.matcher(id).matches()) {
            die("Invalid instance ID: " + id);
        }
        if (apiSock == null) {
            apiSock = "/run/firecracker.socket";
        }
        Path socket = Path.of(apiSock);
        if (Files.exists(socket)) {
            die("Error creating the API server: Failed to bind to the socket: Address in use (os error 98)");
        }
        FakeFirecracker vm = new FakeFirecracker(socket.toAbsolutePath().getParent());
        FirecrackerApiSpec spec = FirecrackerApiSpec.load("firecracker-v" + VERSION + ".yaml");
        try (FakeFirecrackerApi api = new FakeFirecrackerApi(socket, spec, VERSION, id, vm)) {
            System.out.println("Running Firecracker v" + VERSION);
            String refused = configFile == null ? null : api.configureFrom(Path.of(configFile));
            if (refused != null) {
                die(refused);
            }
            vm.awaitGuestExit();
        }
        System.exit(0);
    }

    private static void die(String message) {
        System.err.println(message);
        System.exit(1);
    }

    /** Blocks until the guest is gone (it reset, powered off, or got Ctrl-Alt-Del): then Firecracker exits. */
    private void awaitGuestExit() throws InterruptedException {
        synchronized (this) {
            while (agent == null) {
                wait();
            }
        }
        agent.waitFor();
        stopping = true;
        System.out.println("[fake firecracker] guest stopped; exiting");
        try {
            vsock.close();
        } catch (IOException e) {
            // exiting anyway
        }
    }

    @Override
    public void boot(JsonNode config, boolean paused) {
        String kernel = config.path("boot-source").path("kernel_image_path").asText();
        Path k = Path.of(kernel);
        try (InputStream in = Files.newInputStream(k)) {
            byte[] h = in.readNBytes(20);
            if (h.length < 20 || h[0] != 0x7f || h[1] != 'E' || h[2] != 'L' || h[3] != 'F' || h[4] != 2 || h[18] != 62) {
                throw new IllegalStateException("Cannot load kernel due to invalid memory configuration or invalid kernel"
                        + " image: Kernel Loader: failed to load ELF kernel image");
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot start microvm that was not configured: Invalid kernel path: " + kernel);
        }
        String initrd = config.path("boot-source").path("initrd_path").asText(null);
        if (initrd != null && !Files.isRegularFile(Path.of(initrd))) {
            throw new IllegalStateException("Cannot load initrd due to an invalid image: No such file or directory");
        }
        start(config, paused, guestOf(kernelConfig(k), initrd != null, config));
    }

    /**
     * The kernel's own configuration, as {@code CONFIG_IKCONFIG} embeds it (gzip between
     * {@code IKCFG_ST} and {@code IKCFG_ED}); empty when it has none, and then it is taken to have
     * everything a SmartVM guest needs.
     */
    static Map<String, String> kernelConfig(Path kernel) {
        Map<String, String> options = new HashMap<>();
        try {
            String bytes = new String(Files.readAllBytes(kernel), StandardCharsets.ISO_8859_1);
            int start = bytes.indexOf("IKCFG_ST");
            int end = bytes.indexOf("IKCFG_ED", start + 1);
            if (start < 0 || end < 0) {
                return options;
            }
            byte[] gz = bytes.substring(start + 8, end).getBytes(StandardCharsets.ISO_8859_1);
            String text = new String(new GZIPInputStream(new java.io.ByteArrayInputStream(gz)).readAllBytes(), StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                int eq = line.indexOf('=');
                if (line.startsWith("CONFIG_") && eq > 0) {
                    options.put(line.substring(7, eq), line.substring(eq + 1));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot load kernel: " + e.getMessage());
        }
        return options;
    }

    /**
     * What runs as the guest for a kernel of that configuration, or null for SmartVM's agent: a
     * kernel without initramfs support ignores the initramfs and runs the root drive's own init
     * (the agent never answers) or panics without one; one without vsock runs the agent, which
     * cannot listen and powers off, saying so.
     */
    private static List<String> guestOf(Map<String, String> kconfig, boolean initrd, JsonNode config) {
        if (kconfig.isEmpty()) {
            return null;
        }
        boolean rootDrive = false;
        for (JsonNode d : config.path("drives")) {
            rootDrive |= d.path("is_root_device").asBoolean(false);
        }
        if (initrd && !"y".equals(kconfig.get("BLK_DEV_INITRD"))) {
            return rootDrive ? List.of("/bin/sh", "-c", "echo 'Run /sbin/init as init process'; exec sleep 100000")
                    : List.of("/bin/sh", "-c", "echo 'Kernel panic - not syncing: VFS: Unable to mount root fs on"
                            + " unknown-block(0,0)'");
        }
        boolean vsock = "y".equals(kconfig.get("VIRTIO_MMIO")) && "y".equals(kconfig.get("VSOCKETS"))
                && "y".equals(kconfig.get("VIRTIO_VSOCKETS"));
        if (!vsock) {
            int port = 0;
            Matcher m = TRANSPORT.matcher(config.path("boot-source").path("boot_args").asText(""));
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
            }
            return List.of("/bin/sh", "-c", "echo 'smartvm-agent: cannot listen on vsock port " + port
                    + ": Address family not supported by protocol; powering off'");
        }
        return null;
    }

    @Override
    public void restore(JsonNode config, boolean paused) {
        start(config, paused, null);
    }

    /** Opens the drives and the vsock socket (paths relative to the working directory, as Firecracker's are) and runs the guest. */
    private void start(JsonNode config, boolean paused, List<String> guest) {
        for (JsonNode d : config.path("drives")) {
            if (!Files.exists(Path.of(d.path("path_on_host").asText()))) {
                throw new IllegalStateException("Unable to create the block device: BackingFile(Os { code: 2, kind: NotFound,"
                        + " message: \"No such file or directory\" }, \"" + d.path("path_on_host").asText() + "\")");
            }
        }
        JsonNode vsockConfig = config.path("vsock");
        Matcher m = TRANSPORT.matcher(config.path("boot-source").path("boot_args").asText(""));
        try {
            Path guestSock = workDir.resolve(".fake-guest.sock");
            Path binary = workDir.resolve(".fake-guest-agent");
            Files.write(binary, AgentBinary.bytes());
            Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwx------"));
            List<String> argv = new ArrayList<>(List.of("/usr/bin/setpriv", "--pdeathsig", "KILL"));
            argv.addAll(guest != null ? guest : List.of(binary.toString(), "--listen", guestSock.toString()));
            Process p = new ProcessBuilder(argv).inheritIO().start();
            if (paused) {
                signal(p, "STOP");
            }
            if (!vsockConfig.isMissingNode() && m.find()) {
                Path uds = Path.of(vsockConfig.path("uds_path").asText());
                if (Files.exists(uds)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("Cannot create vsock device: Address in use (os error 98)");
                }
                vsock = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                vsock.bind(UnixDomainSocketAddress.of(uds));
                int port = Integer.parseInt(m.group(1));
                Thread.ofPlatform().daemon().start(() -> serveVsock(port, guestSock));
            }
            synchronized (this) {
                agent = p;
                notifyAll();
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot start microvm: " + e.getMessage());
        }
    }

    /** Firecracker's hybrid vsock: one line asks for a guest port; the guest must be listening on it. */
    private void serveVsock(int agentPort, Path guestSock) {
        int hostPort = 1073741824;
        while (!stopping) {
            SocketChannel host;
            try {
                host = vsock.accept();
            } catch (IOException e) {
                return;
            }
            int local = hostPort++;
            Thread.ofVirtual().start(() -> {
                try {
                    String line = readLine(host);
                    if (line == null || !line.startsWith("CONNECT ") || Integer.parseInt(line.substring(8).strip()) != agentPort) {
                        host.close(); // nothing listens on that port in the guest: the connection is reset
                        return;
                    }
                    SocketChannel guest = SocketChannel.open(StandardProtocolFamily.UNIX);
                    try {
                        guest.connect(UnixDomainSocketAddress.of(guestSock));
                    } catch (IOException e) {
                        guest.close();
                        host.close(); // the guest agent is not listening yet
                        return;
                    }
                    host.write(java.nio.ByteBuffer.wrap(("OK " + local + "\n").getBytes(StandardCharsets.US_ASCII)));
                    Thread.ofVirtual().start(() -> pump(guest, host));
                    pump(host, guest);
                } catch (IOException | NumberFormatException e) {
                    try {
                        host.close();
                    } catch (IOException ignored) {
                        // gone
                    }
                }
            });
        }
    }

    private static String readLine(SocketChannel ch) throws IOException {
        StringBuilder b = new StringBuilder();
        java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
        while (b.length() < 64) {
            one.clear();
            if (ch.read(one) < 0) {
                return null;
            }
            char c = (char) one.get(0);
            if (c == '\n') {
                return b.toString();
            }
            b.append(c);
        }
        return null;
    }

    private static void pump(SocketChannel from, SocketChannel to) {
        try (InputStream in = Channels.newInputStream(from); OutputStream out = Channels.newOutputStream(to)) {
            in.transferTo(out);
        } catch (IOException e) {
            // one side went away: so does the other
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    private static void signal(Process p, String signal) {
        // setpriv execs the agent, so the child's pid is the agent's
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new IllegalStateException("cannot signal the guest: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized void pause() {
        if (agent != null) {
            signal(agent, "STOP");
        }
    }

    @Override
    public synchronized void resume() {
        if (agent != null) {
            signal(agent, "CONT");
        }
    }

    @Override
    public synchronized void ctrlAltDel() {
        if (agent != null) {
            System.out.println("smartvm-agent: Ctrl-Alt-Del: stopping");
            signal(agent, "CONT");
            agent.destroy();
        }
    }

    /** Writes an executable {@code firecracker} into {@code dir} that runs this fake on the test classpath. */
    public static Path install(Path dir) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path script = dir.resolve("firecracker");
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(e -> Path.of(e).toAbsolutePath().toString()).collect(Collectors.joining(File.pathSeparator));
        // Firecracker runs in its VM's directory: neither the class path nor the spec may depend on where that is
        Files.writeString(script, "#!/bin/sh\nexec '" + java + "' -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"
                + " -D" + FirecrackerApiSpec.SEARCH_FROM + "='" + Path.of("").toAbsolutePath() + "' -cp '" + classPath + "' "
                + FakeFirecracker.class.getName() + " \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }
}

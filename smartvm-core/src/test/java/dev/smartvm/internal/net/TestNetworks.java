package dev.smartvm.internal.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.internal.io.CommandResult;
import dev.smartvm.internal.io.CommandRunner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Network namespaces, veths and bridges for tests, and TCP servers in them that answer their
 * name on port 8080. Everything is named with a random tag and removed by {@link #close()},
 * which also checks that nothing with the tag is left.
 */
public final class TestNetworks implements AutoCloseable {
    private static final CommandRunner RUN = CommandRunner.system();
    private final String tag = Integer.toString(ThreadLocalRandom.current().nextInt(1000, 9999));
    private final List<String> namespaces = new ArrayList<>();
    private final List<String> links = new ArrayList<>();
    private final List<String> pidFiles = new ArrayList<>();
    private final List<String> undo = new ArrayList<>();

    public String tag() {
        return tag;
    }

    public static CommandResult sh(String command) {
        return RUN.run(List.of("/bin/sh", "-c", command), null, Duration.ofSeconds(30));
    }

    public static void ok(String command) {
        CommandResult r = sh(command);
        assertThat(r.exitCode()).as(command + "\n" + r.stderr()).isZero();
    }

    /** Runs {@code command} now and {@code reverse} at close (before the namespaces go). */
    public void change(String command, String reverse) {
        ok(command);
        undo.add(0, reverse);
    }

    public String namespace(String name) {
        String ns = "svt-" + name + "-" + tag;
        ok("ip netns add " + ns);
        namespaces.add(ns);
        return ns;
    }

    /** A veth whose far end is eth0 in {@code ns}; returns the host end's name. */
    public String veth(String name, String ns) {
        String link = "svt" + name + tag;
        ok("ip link add " + link + " type veth peer name eth0 netns " + ns);
        links.add(link);
        return link;
    }

    public String bridge(String name, String cidr) {
        String br = "svt" + name + tag;
        ok("ip link add " + br + " type bridge && ip addr add " + cidr + " dev " + br + " && ip link set " + br + " up");
        links.add(br);
        return br;
    }

    /** Gives eth0 of {@code ns} an address and a default route. */
    public static void configure(String ns, String cidr, String gateway) {
        ok("ip -n " + ns + " addr add " + cidr + " dev eth0 && ip -n " + ns + " link set eth0 up && ip -n " + ns
                + " link set lo up && ip -n " + ns + " route add default via " + gateway);
    }

    /** A namespace answering {@code name} on 8080 at 10.{net}.{n}.2, routed by the host through .1. */
    public String host(String name, int net, int n) {
        String ns = namespace(name);
        String link = veth("h" + name, ns);
        ok("ip addr add 10." + net + "." + n + ".1/24 dev " + link + " && ip link set " + link + " up");
        configure(ns, "10." + net + "." + n + ".2/24", "10." + net + "." + n + ".1");
        listener("ip netns exec " + ns + " ", "0.0.0.0", name);
        return ns;
    }

    /** A TCP server on port 8080 that answers its name, in the background, listening when this returns. */
    public void listener(String prefix, String address, String name) {
        server(prefix, address, 8080, name, "while True:\n c,_=s.accept(); c.sendall(b'" + name + "\\\\n'); c.close()");
    }

    /** A server on {@code address}:8081 that answers each line it reads with the line, until the peer closes. */
    public void echo(String prefix, String address, String name) {
        server(prefix, address, 8081, name, "import threading\n"
                + "def serve(c):\n for line in c.makefile('rb'): c.sendall(line)\n"
                + "while True:\n c,_=s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()");
    }

    /**
     * A Python server in the background (its own session, its pid in a file {@link #close} kills
     * it by), listening on {@code address}:{@code port} as {@code s} when this returns; {@code loop} serves.
     */
    private void server(String prefix, String address, int port, String name, String loop) {
        String pidFile = "/tmp/svt-" + tag + "-" + name + ".pid";
        pidFiles.add(pidFile);
        ok(prefix + "python3 -c \"import socket,os\nif os.fork(): os._exit(0)\nos.setsid()\n"
                + "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('" + address
                + "', " + port + ")); s.listen(16)\n"
                + "open('" + pidFile + "','w').write(str(os.getpid()))\n" + loop + "\" > /dev/null 2>&1");
        ok("for i in $(seq 100); do [ -s " + pidFile + " ] && exit 0; sleep 0.05; done; exit 1");
    }

    @Override
    public void close() {
        for (String pidFile : pidFiles) {
            sh("[ -f " + pidFile + " ] && kill -9 $(cat " + pidFile + "); rm -f " + pidFile);
        }
        undo.forEach(TestNetworks::sh);
        for (String ns : namespaces) {
            sh("ip netns del " + ns);
        }
        for (String l : links) {
            sh("ip link del " + l);
        }
        assertThat(sh("ip -o link show | grep " + tag + "; ip netns list | grep " + tag).stdout()).as("left behind").isBlank();
    }
}

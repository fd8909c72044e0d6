package dev.smartvm.internal.net;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * A real DNS server over UDP on 127.0.0.1 whose answers the test sets: A records with a TTL,
 * NODATA for a name with no A record, NXDOMAIN for anything else. It counts the queries per name.
 */
public final class TestDnsServer implements AutoCloseable {
    private record Answer(long ttl, List<String> addresses) {
    }

    private final DatagramSocket socket;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> queries = new ConcurrentHashMap<>();
    private final Thread thread;

    public TestDnsServer() throws IOException {
        socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        thread = Thread.ofPlatform().daemon().name("test-dns").start(this::serve);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** From now on {@code name} has these A records (none: the name exists without one), with {@code ttl} seconds. */
    public void answer(String name, long ttl, String... addresses) {
        answers.put(key(name), new Answer(ttl, List.of(addresses)));
    }

    public int queries(String name) {
        return queries.getOrDefault(key(name), new AtomicInteger()).get();
    }

    private static String key(String name) {
        return name.endsWith(".") ? name.toLowerCase() : name.toLowerCase() + ".";
    }

    private void serve() {
        byte[] buf = new byte[1500];
        while (!socket.isClosed()) {
            try {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                socket.receive(p);
                Message query = new Message(java.util.Arrays.copyOf(p.getData(), p.getLength()));
                byte[] reply = respond(query).toWire();
                socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
            } catch (IOException e) {
                // closed, or a malformed query: go on (or end with the socket)
            }
        }
    }

    private Message respond(Message query) throws IOException {
        Message reply = new Message(query.getHeader().getID());
        reply.getHeader().setFlag(Flags.QR);
        reply.getHeader().setFlag(Flags.AA);
        org.xbill.DNS.Record question = query.getQuestion();
        reply.addRecord(question, Section.QUESTION);
        Name name = question.getName();
        queries.computeIfAbsent(key(name.toString()), k -> new AtomicInteger()).incrementAndGet();
        Answer a = answers.get(key(name.toString()));
        if (a == null) {
            reply.getHeader().setRcode(Rcode.NXDOMAIN);
        } else if (question.getType() == Type.A) {
            for (String address : a.addresses()) {
                reply.addRecord(new ARecord(name, DClass.IN, a.ttl(), InetAddress.getByName(address)), Section.ANSWER);
            }
        }
        return reply;
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(5000);
    }
}

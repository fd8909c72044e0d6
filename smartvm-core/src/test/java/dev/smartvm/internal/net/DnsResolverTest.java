package dev.smartvm.internal.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.NameResolver;
import dev.smartvm.SmartVmException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DnsResolverTest {
    private TestDnsServer dns;
    private DnsResolver resolver;

    @BeforeEach
    void serve() throws Exception {
        dns = new TestDnsServer();
        resolver = DnsResolver.using(dns.address());
    }

    @AfterEach
    void stop() throws Exception {
        dns.close();
    }

    private static ErrorCode code(Runnable r) {
        try {
            r.run();
        } catch (SmartVmException e) {
            return e.code();
        }
        throw new AssertionError("no exception");
    }

    @Test
    void addressesComeSortedWithTheSmallestTtl() {
        dns.answer("svc.example.test", 30, "10.0.0.9", "10.0.0.2");
        NameResolver.Resolution r = resolver.resolve("svc.example.test");
        assertThat(r.addresses()).containsExactly("10.0.0.2", "10.0.0.9");
        assertThat(r.ttl()).isEqualTo(Duration.ofSeconds(30));
        resolver.resolve("svc.example.test");
        assertThat(dns.queries("svc.example.test")).as("no answer is cached: the server is asked each time").isEqualTo(2);
    }

    @Test
    void unknownNamesAndNamesWithoutIpv4AreRefused() {
        dns.answer("v6only.example.test", 30);
        assertThatThrownBy(() -> resolver.resolve("nowhere.example.test")).hasMessageContaining("cannot resolve 'nowhere.example.test'");
        assertThat(code(() -> resolver.resolve("nowhere.example.test"))).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThatThrownBy(() -> resolver.resolve("v6only.example.test")).hasMessageContaining("has no IPv4 address");
    }

    @Test
    void aServerThatNeverAnswersIsADnsFailure() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            DnsResolver r = DnsResolver.using((InetSocketAddress) silent.getLocalSocketAddress());
            assertThatThrownBy(() -> r.resolve("svc.example.test")).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.DNS_FAILED)).hasMessageContaining("no DNS server answered");
        }
    }

    @Test
    void theSystemResolverReadsTheHostsFile() {
        assertThat(NameResolver.system().resolve("localhost").addresses()).contains("127.0.0.1");
    }

    @Test
    void egressRulesKeepTheirHostnameAndTtl() {
        dns.answer("api.example.test", 120, "192.0.2.7");
        EgressRule r = EgressRule.parse("api.example.test:443", resolver);
        assertThat(r).isEqualTo(new EgressRule("api.example.test:443", "api.example.test", List.of("192.0.2.7/32"), 443,
                Duration.ofSeconds(120)));
        assertThat(EgressRule.parse("10.1.2.3/8:443", resolver)).isEqualTo(new EgressRule("10.1.2.3/8:443", null,
                List.of("10.0.0.0/8"), 443, null));
        assertThatThrownBy(() -> EgressRule.parse("gone.example.test", resolver))
                .hasMessage("invalid egress rule 'gone.example.test': the host cannot resolve 'gone.example.test'");
    }
}

package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/** Hosts, ports and URIs as a user may write them, and the URI each means. */
class ClientAddressTest {

    private static String uri(PolicyClientBuilder builder) {
        return builder.build().uri().toString();
    }

    @Test
    void bareHostsGetPort8000OrTheGivenOne() {
        assertEquals("ws://localhost:8000", uri(PolicyClient.builder()));
        assertEquals("ws://ws-gpu01:8000", uri(PolicyClient.builder().host("ws-gpu01")));
        assertEquals("ws://10.0.0.5:9000", uri(PolicyClient.builder().host("10.0.0.5").port(9000)));
        assertEquals("ws://10.0.0.5:9000", uri(PolicyClient.builder().port(9000).host("10.0.0.5")), "in either order");
    }

    @Test
    void hostsWithTheirPort() {
        assertEquals("ws://127.0.0.1:8001", uri(PolicyClient.builder().host("127.0.0.1:8001")));
        assertEquals("ws://gpu01:9000", uri(PolicyClient.builder().host("gpu01:9000")));
        assertEquals("ws://gpu01:9000", uri(PolicyClient.builder().host("gpu01:9000").port(9000)), "the same port twice is fine");
    }

    @Test
    void ipv6Literals() {
        assertEquals("ws://[::1]:8000", uri(PolicyClient.builder().host("::1")));
        assertEquals("ws://[::1]:8000", uri(PolicyClient.builder().host("[::1]")));
        assertEquals("ws://[::1]:8001", uri(PolicyClient.builder().host("[::1]:8001")));
        assertEquals("ws://[fe80::1]:9", uri(PolicyClient.builder().host("fe80::1").port(9)));
        assertEquals("ws://[::1]:7000/p", uri(PolicyClient.builder().uri("ws://[::1]:7000/p")));
        assertEquals("::1", PolicyClient.builder().host("[::1]:8001").build().uri().getHost().replaceAll("[\\[\\]]", ""));
    }

    @Test
    void uris() {
        assertEquals("wss://example.org:443/policy", uri(PolicyClient.builder().host("wss://example.org:443/policy")));
        assertEquals("ws://h:1/path?x=1", uri(PolicyClient.builder().host("ws://h:1/path?x=1")));
        assertEquals("ws://h:7000", uri(PolicyClient.builder().uri("ws://h").port(7000)), "a port fills in a missing one");
        assertEquals("ws://h", uri(PolicyClient.builder().uri("ws://h")), "no port: the scheme's default, as any URI");
        assertEquals("ws://h:7000", uri(PolicyClient.builder().host("gpu01").uri("ws://h:7000")), "the last address wins");
    }

    @Test
    void aPortGivenTwiceMustAgree() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PolicyClient.builder().uri("ws://h:7000").port(8000).build());
        assertTrue(e.getMessage().contains("port 7000") && e.getMessage().contains("port 8000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().host("127.0.0.1:8000").port(8001).build());
        assertTrue(e.getMessage().contains("127.0.0.1:8000"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().host("[::1]:8000").port(8001).build());
    }

    @Test
    void badAddressesAreNamed() {
        for (String bad : new String[] {"", "h:abc", "h:0", "h:70000", "h:", "[::1", "[::1]x", "[::1]:", "a b", "h/path",
                "user@h", "http://h", "ftp://h:1", "a_b"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().host(bad),
                    "host '" + bad + "'");
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
        for (String bad : new String[] {"http://h:1", "ws://", "ws://h:0", "ws://h:99999", "h:8000", "ws://a b"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().uri(bad),
                    "uri '" + bad + "'");
            assertTrue(e.getMessage().contains(bad) || e.getMessage().contains("port"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().port(0));
        assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().port(65536));
    }

    @Test
    void tlsFollowsTheSchemeOrTheContext() throws Exception {
        SSLContext context = SSLContext.getDefault();
        assertEquals("wss://h:8000", uri(PolicyClient.builder().host("h").sslContext(context)));
        PolicyClient wss = PolicyClient.builder().uri("wss://h:8443").build();
        assertEquals(SSLContext.getDefault(), wss.options().sslContext(), "wss:// without a context uses the default one");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PolicyClient.builder().uri("ws://h:1").sslContext(context).build());
        assertTrue(e.getMessage().contains("wss://"), e.getMessage());
    }

    @Test
    void aHostWithItsPortReachesARealServer() {
        try (PolicyServer server = PolicyServer.builder(new TestPolicies.Echo()).host("127.0.0.1").port(0).build().start();
                PolicyClient client = PolicyClient.builder().host("127.0.0.1:" + server.port())
                        .connectTimeout(Duration.ofSeconds(10)).build()) {
            assertEquals(Map.of("x", 1L), client.step(Map.of("x", 1L)).get("echo"));
        }
    }
}

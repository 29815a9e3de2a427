package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.webpolicy.transport.client.ReplySlot;

/** The options a client is built with: finite defaults, a snapshot per build, clear errors. */
class ClientOptionsTest {

    @Test
    void everyWaitHasAFiniteDefault() {
        ClientOptions o = PolicyClient.builder().build().options();
        assertEquals(Duration.ofSeconds(30), o.connectTimeout());
        assertEquals(Duration.ofSeconds(120), o.requestTimeout());
        assertEquals(Duration.ofMillis(150), o.retryInterval(), "the longest pause: back within 200 ms of a restarted server");
        assertEquals(Duration.ofSeconds(20), o.pingInterval());
        assertEquals(ProtocolMode.AUTO, o.protocolMode());
        assertTrue(o.reconnect());
        assertEquals(Integer.MAX_VALUE, o.maxMessageBytes(), "unlimited replies, as the Python peers");
        assertNull(o.apiKey());
        assertNull(o.sslContext());
    }

    @Test
    void aBuilderUsedAgainNeverChangesWhatItBuilt() {
        PolicyClientBuilder builder = PolicyClient.builder().host("a").port(1000).apiKey("k1")
                .requestTimeout(Duration.ofSeconds(1)).connectTimeout(Duration.ofSeconds(2)).retryInterval(Duration.ofSeconds(3))
                .pingInterval(Duration.ofSeconds(4)).protocolMode(ProtocolMode.ENVELOPE).maxMessageBytes(5);
        PolicyClient first = builder.build();
        builder.host("b").port(2000).apiKey("k2").requestTimeout(Duration.ofSeconds(11)).connectTimeout(Duration.ofSeconds(12))
                .retryInterval(Duration.ofSeconds(13)).pingInterval(Duration.ofSeconds(14)).protocolMode(ProtocolMode.RAW)
                .maxMessageBytes(15).reconnect(false);
        PolicyClient second = builder.build();

        ClientOptions o = first.options();
        assertEquals("ws://a:1000", first.uri().toString());
        assertEquals(List.of("k1", Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(4),
                ProtocolMode.ENVELOPE, 5, true), List.of(o.apiKey(), o.requestTimeout(), o.connectTimeout(), o.retryInterval(),
                o.pingInterval(), o.protocolMode(), o.maxMessageBytes(), o.reconnect()));
        ClientOptions p = second.options();
        assertEquals("ws://b:2000", second.uri().toString());
        assertEquals(List.of("k2", Duration.ofSeconds(11), Duration.ofSeconds(12), Duration.ofSeconds(13),
                Duration.ofSeconds(14), ProtocolMode.RAW, 15, false), List.of(p.apiKey(), p.requestTimeout(),
                p.connectTimeout(), p.retryInterval(), p.pingInterval(), p.protocolMode(), p.maxMessageBytes(), p.reconnect()));
    }

    @Test
    void buildingAWssClientLeavesTheBuilderAsItWas() {
        PolicyClientBuilder builder = PolicyClient.builder().uri("wss://h:8443");
        assertTrue(builder.build().options().sslContext() != null, "wss:// gets the default TLS context");
        // Had build() stored that context in the builder, a ws:// client from it would now be refused.
        assertNull(builder.uri("ws://h:8000").build().options().sslContext());
    }

    @Test
    void durationsMustBePositive() {
        List<Consumer<Duration>> setters = List.of(d -> PolicyClient.builder().connectTimeout(d),
                d -> PolicyClient.builder().requestTimeout(d), d -> PolicyClient.builder().retryInterval(d),
                d -> PolicyClient.builder().pingInterval(d));
        for (Consumer<Duration> set : setters) {
            assertThrows(IllegalArgumentException.class, () -> set.accept(Duration.ZERO));
            assertThrows(IllegalArgumentException.class, () -> set.accept(Duration.ofSeconds(-1)));
            assertThrows(NullPointerException.class, () -> set.accept(null));
        }
        assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().maxMessageBytes(0));
    }

    @Test
    void aServerThatIsNotUpEndsEachCallWithTheAddressTheAttemptsAndTheLastCause() throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(port).connectTimeout(Duration.ofMillis(400))
                .retryInterval(Duration.ofMillis(50)).build()) {
            List<Runnable> calls = List.of(client::connect, () -> client.step(Map.of()), client::metadata,
                    () -> client.reset(Map.of()));
            for (Runnable call : calls) {
                PolicyConnectionException e = assertThrows(PolicyConnectionException.class, call::run);
                String m = e.getMessage();
                assertTrue(m.contains("ws://127.0.0.1:" + port), m);
                assertTrue(m.matches("(?s).*: \\d+ attempts? over \\d+\\.\\d s \\(connect timeout 0\\.4 s\\).*"), m);
                assertTrue(m.contains("refused"), m);
            }
        }
    }

    @Test
    void theApiKeyIsNeverPrintedWithTheOptionsOrLogged() throws IOException {
        ClientOptions o = PolicyClient.builder().apiKey("s3cret-key").build().options();
        assertFalse(o.toString().contains("s3cret-key"), o.toString());
        assertTrue(o.toString().contains("apiKey=set"), o.toString());
        try (Stream<Path> files = Files.list(Path.of("src/main/java/org/webpolicy/transport"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().matches("(Client.*|PolicyClient|ReplySlot)\\.java")).toList()) {
                for (String line : Files.readAllLines(f)) {
                    if (line.contains("log.")) {
                        assertFalse(line.toLowerCase().contains("apikey") || line.contains("Authorization"), f + ": " + line);
                    }
                }
            }
        }
    }
}

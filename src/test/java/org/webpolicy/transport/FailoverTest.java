package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.policy.Policy;

/** A client given several servers fails over between them without a load balancer. */
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class FailoverTest {

    private final Wire wire;

    FailoverTest(Wire wire) {
        this.wire = wire;
    }

    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    /** Answers with its own name, so a test sees which server answered. */
    private static Policy named(String name) {
        return new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                return Map.of("server", name, "echo", observation.get("step"));
            }
        };
    }

    /** A loopback port nothing listens on (bound, then let go). */
    private static int deadPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private PolicyClient client(List<String> endpoints) {
        return open.add(wire.builder().endpoints(endpoints).retryInterval(Duration.ofMillis(100))
                .connectTimeout(Duration.ofSeconds(20)).build());
    }

    @Test
    void aDeadFirstEndpointIsSkippedWithoutWaitingTheRetryInterval() throws Exception {
        PolicyServer live = open.serve(wire, PolicyServer.builder(named("b")));
        PolicyClient client = open.add(wire.builder()
                .endpoints(List.of(wire.uri(deadPort()), wire.uri(live.port())))
                // A pause between rounds longer than the connect timeout: only moving on at once connects.
                .retryInterval(Duration.ofSeconds(60)).connectTimeout(Duration.ofSeconds(20)).build());
        assertEquals("b", client.step(Map.of("step", 1L)).get("server"));
    }

    @Test
    void whenItsServerStopsTheClientMovesToTheNextAndEveryReplyIsItsOwn() throws Exception {
        PolicyServer a = wire.on(PolicyServer.builder(named("a"))).host("127.0.0.1").port(0).build().start();
        PolicyServer b = open.serve(wire, PolicyServer.builder(named("b")));
        PolicyClient client = client(List.of(wire.uri(a.port()), wire.uri(b.port())));
        long step = 0;
        for (; step < 5; step++) {
            Map<String, Object> action = client.step(Map.of("step", step));
            assertEquals("a", action.get("server"));
            assertEquals(step, action.get("echo"));
        }
        a.close();
        int failed = 0;
        String server = null;
        for (int i = 0; i < 5; i++, step++) {
            try {
                Map<String, Object> action = client.step(Map.of("step", step));
                assertEquals(step, action.get("echo"));
                server = (String) action.get("server");
            } catch (PolicyConnectionException e) {
                failed++; // the call that met the closed connection
            }
        }
        assertTrue(failed <= 1, failed + " calls failed; at most the first may");
        assertEquals("b", server);
    }

    @Test
    void allEndpointsDownNamesThemAll() throws Exception {
        int one = deadPort();
        int two = deadPort();
        PolicyClient client = open.add(wire.builder().endpoints(List.of(wire.uri(one), wire.uri(two)))
                .retryInterval(Duration.ofMillis(100)).connectTimeout(Duration.ofMillis(800)).build());
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, client::connect);
        assertTrue(e.getMessage().contains("any of [" + wire.uri(one) + ", " + wire.uri(two) + "]"), e.getMessage());
    }

    @Test
    void endpointListsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().endpoints(List.of()));
        assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().endpoints(List.of("a:1", "not a host")));
        IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class,
                () -> PolicyClient.builder().endpoints(List.of("ws://a:1", "wss://b:2")).build());
        assertTrue(mixed.getMessage().contains("mix ws:// and wss://"), mixed.getMessage());
        PolicyClient twoWithOnePort = PolicyClient.builder().endpoints(List.of("a", "b:8100")).port(8100).build();
        assertEquals(List.of(java.net.URI.create("ws://b:8100")), twoWithOnePort.options().fallbacks());
        assertEquals("ws://a:8100", twoWithOnePort.uri().toString());
    }
}

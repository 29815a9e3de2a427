package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.policy.Policy;

/** GET /metrics in the Prometheus text format, its API key, and /healthz while draining. */
class MetricsAndDrainTest {

    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    private PolicyClient client(PolicyServer server, String apiKey) {
        PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port()).apiKey(apiKey)
                .connectTimeout(Duration.ofSeconds(10)).build();
        open.add(client);
        return client;
    }

    private static String get(PolicyServer server, String path, String headers) throws IOException {
        return PolicyServerClientTest.httpGet(server.port(), path, headers);
    }

    /** The value of a sample line {@code name value}, or fails naming the missing line. */
    private static String sample(String metrics, String name) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + " ")) {
                return line.substring(name.length() + 1).trim();
            }
        }
        throw new AssertionError("no sample " + name + " in:\n" + metrics);
    }

    @Test
    void metricsCountRequestsBytesBatchesAndConnections() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()));
        PolicyClient client = client(server, null);
        for (int i = 0; i < 3; i++) {
            client.step(TestPolicies.observation(i));
        }
        client.reset(Map.of());
        String response = get(server, "/metrics", null);
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertTrue(response.contains("Content-Type: text/plain; version=0.0.4"), response);
        String body = response.substring(response.indexOf("\r\n\r\n") + 4);
        assertEquals("4", sample(body, "webpolicy_requests_total"));
        assertEquals("4", sample(body, "webpolicy_replies_total"));
        assertEquals("1", sample(body, "webpolicy_connections"));
        assertEquals("0", sample(body, "webpolicy_draining"));
        assertEquals("3", sample(body, "webpolicy_batch_size_count"), "three steps, one observation per call");
        assertEquals("3", sample(body, "webpolicy_batch_size_sum"));
        assertEquals("4", sample(body, "webpolicy_request_seconds_count"));
        assertEquals("4", sample(body, "webpolicy_decode_seconds_count"));
        assertTrue(Long.parseLong(sample(body, "webpolicy_received_bytes_total")) > 3 * 8);
        assertTrue(Long.parseLong(sample(body, "webpolicy_sent_bytes_total")) > 3 * 8);
        assertEquals("0", sample(body, "webpolicy_request_errors_total{kind=\"policy\"}"));
        assertEquals("4", sample(server.metricsText(), "webpolicy_requests_total"), "the same counts through the API");
    }

    @Test
    void failuresAreCountedByKind() throws Exception {
        Policy throwing = new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                throw new IllegalStateException("no model");
            }
        };
        PolicyServer server = open.serve(PolicyServer.builder(throwing));
        assertThrows(RemotePolicyException.class, () -> client(server, null).step(TestPolicies.observation(1)));
        RawClient raw = RawClient.connect(server.port());
        raw.nextBinary(); // metadata
        raw.send(new byte[] {(byte) 0xc1}); // never used in msgpack
        RawClient.Event event;
        do {
            event = raw.next();
        } while (event.closeCode() == null);
        assertEquals(1011, event.closeCode());
        String body = server.metricsText();
        assertEquals("1", sample(body, "webpolicy_request_errors_total{kind=\"policy\"}"));
        assertEquals("1", sample(body, "webpolicy_request_errors_total{kind=\"decode\"}"));
        assertEquals("0", sample(body, "webpolicy_replies_total"));
    }

    @Test
    void metricsNeedTheApiKeyUnlessPublic() throws Exception {
        PolicyServer keyed = open.serve(PolicyServer.builder(new TestPolicies.Echo()).apiKey("s3cret"));
        assertTrue(get(keyed, "/metrics", null).startsWith("HTTP/1.1 401"));
        assertTrue(get(keyed, "/metrics", "Authorization: Api-Key wrong\r\n").startsWith("HTTP/1.1 401"));
        String allowed = get(keyed, "/metrics", "Authorization: Api-Key s3cret\r\n");
        assertTrue(allowed.startsWith("HTTP/1.1 200") && allowed.contains("webpolicy_requests_total 0"), allowed);
        PolicyServer open2 = open.serve(PolicyServer.builder(new TestPolicies.Echo()).apiKey("s3cret").publicMetrics(true));
        assertTrue(get(open2, "/metrics", null).startsWith("HTTP/1.1 200"));
        assertTrue(get(open2, "/healthz", null).startsWith("HTTP/1.1 200"), "health checks never need the key");
    }

    @Test
    void drainingAnswers503OnHealthzWhileOpenConnectionsAreStillServed() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()));
        PolicyClient client = client(server, null);
        client.step(TestPolicies.observation(1));
        assertTrue(get(server, "/healthz", null).startsWith("HTTP/1.1 200"));
        server.startDraining();
        String health = get(server, "/healthz", null);
        assertTrue(health.startsWith("HTTP/1.1 503") && health.contains("draining"), health);
        assertEquals(1.0f, ((org.webpolicy.array.NdArray) ((Map<?, ?>) client.step(TestPolicies.observation(1)).get("echo"))
                .get("state")).toFloatArray()[0]);
        assertEquals("1", sample(server.metricsText(), "webpolicy_draining"));
    }

    @Test
    void closeDrainsForTheDrainTimeFirst() throws Exception {
        PolicyServer server = PolicyServer.builder(new TestPolicies.Echo()).host("127.0.0.1").port(0)
                .drainTime(Duration.ofMillis(600)).build().start();
        long t0 = System.nanoTime();
        server.close();
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMs >= 600, "close returned after " + tookMs + " ms, before the drain time");
        assertThrows(IllegalArgumentException.class, () -> PolicyServer.builder(new TestPolicies.Echo())
                .drainTime(Duration.ofSeconds(-1)));
    }
}

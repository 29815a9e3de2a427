package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The server's counters as Micrometer meters read them. */
class MicrometerMetricsTest {

    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    @Test
    void metersReadTheServersCounters() {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MicrometerMetrics.bind(server, registry);
        PolicyClient client = open.add(PolicyClient.builder().host("127.0.0.1").port(server.port())
                .connectTimeout(Duration.ofSeconds(10)).build());
        for (int i = 0; i < 3; i++) {
            client.step(TestPolicies.observation(i));
        }
        assertEquals(3.0, registry.get("webpolicy.requests").functionCounter().count());
        assertEquals(3.0, registry.get("webpolicy.policy.calls").functionCounter().count());
        assertEquals(3.0, registry.get("webpolicy.policy.observations").functionCounter().count());
        assertEquals(0.0, registry.get("webpolicy.request.errors").tag("kind", "policy").functionCounter().count());
        assertEquals(1.0, registry.get("webpolicy.connections").gauge().value());
        assertEquals(3.0, registry.get("webpolicy.decode").functionTimer().count());
        assertEquals(3.0, registry.get("webpolicy.request").functionTimer().count());
        server.startDraining();
        assertEquals(1.0, registry.get("webpolicy.draining").gauge().value());
    }
}

package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A request that outlives the request timeout fails with its own type, still a connection failure. */
class RequestTimeoutTest {

    private final TestResources open = new TestResources();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void closeAll() throws Exception {
        release.countDown();
        open.close();
    }

    @Test
    void aRequestWithNoReplyInTimeIsARequestTimeoutException() throws Exception {
        PolicyServer server = open.add(PolicyServer.builder(obs -> {
            if (obs.containsKey("slow")) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Map.of("ok", 1L);
        }).host("127.0.0.1").port(0).build().start());
        PolicyClient client = open.add(PolicyClient.builder().host("127.0.0.1").port(server.port())
                .requestTimeout(Duration.ofMillis(300)).build());
        assertEquals(1L, client.step(Map.of()).get("ok"));

        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, () -> client.step(Map.of("slow", 1L)));
        RequestTimeoutException timeout = assertInstanceOf(RequestTimeoutException.class, e);
        assertEquals(Duration.ofMillis(300), timeout.timeout());
        assertTrue(e.getMessage().contains("within 300 ms"), e.getMessage());
        release.countDown();
        assertEquals(1L, client.step(Map.of()).get("ok"), "the next call reconnects");
    }
}

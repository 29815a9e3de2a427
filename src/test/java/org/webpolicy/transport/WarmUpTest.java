package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.ObservationSpec;
import org.webpolicy.policy.Policy;

/** The server's warm-up: what it calls and what it leaves alone, and {@code /readyz} and {@code /healthz} around it. */
class WarmUpTest {

    private final TestResources open = new TestResources();

    @BeforeEach
    void coldJvm() {
        ServerWarmUp.forgetWarmth();
    }

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    /** Status line and body of {@code GET path}. */
    private static String[] get(int port, String path) throws IOException {
        String response = PolicyServerClientTest.httpGet(port, path, null);
        int end = response.indexOf("\r\n");
        return new String[] {response.substring(0, end), response.substring(response.indexOf("\r\n\r\n") + 4)};
    }

    @Test
    void defaultWarmUpNeverCallsThePolicyItsCheckOrItsTapAndCountsNothing() throws Exception {
        TestPolicies.Echo policy = new TestPolicies.Echo();
        AtomicInteger checked = new AtomicInteger();
        AtomicInteger tapped = new AtomicInteger();
        PolicyServer server = open.serve(PolicyServer.builder(policy).warmUp(40)
                .observationCheck(o -> checked.incrementAndGet()).exchangeTap((robot, metadata, request, reply, failure, received, done) -> tapped.incrementAndGet()));
        assertTrue(server.isWarm());
        assertEquals(0, policy.steps.get(), "the default warm-up is answered by a stand-in");
        assertEquals(0, checked.get(), "the user's observation check never sees synthetic observations");
        assertEquals(0, tapped.get(), "nor does the exchange tap");
        assertEquals(0, server.metrics().requests.sum(), "nor the server's metrics");
        try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port()).build().connect()) {
            client.step(TestPolicies.observation(1));
        }
        assertEquals(1, policy.steps.get());
        assertEquals(1, checked.get());
    }

    @Test
    void theDefaultWarmUpRunsOncePerJvmAndASampleWarmUpEveryTime() {
        TestPolicies.Echo policy = new TestPolicies.Echo();
        ServerOptions defaults = PolicyServer.builder(policy).warmUp(20).options();
        assertEquals(20, ServerWarmUp.run(policy, defaults));
        assertEquals(0, ServerWarmUp.run(policy, defaults), "compiled code is shared by every server of the JVM");
        ServerOptions sample = PolicyServer.builder(policy).warmUp(TestPolicies.observation(3), 7).options();
        assertEquals(7, ServerWarmUp.run(policy, sample));
        assertEquals(7, policy.steps.get());
        assertEquals(0, ServerWarmUp.run(policy, PolicyServer.builder(policy).warmUp(0).options()));
    }

    @Test
    void sampleWarmUpCallsThePolicyWithTheSampleInBothFormsThroughTheCheck() throws Exception {
        List<Object> seen = new CopyOnWriteArrayList<>();
        AtomicInteger checked = new AtomicInteger();
        Policy policy = obs -> {
            seen.add(((NdArray) obs.get("state")).toFloatArray()[0]);
            return Map.of("a", NdArray.ofFloat32(new float[] {1}));
        };
        PolicyServer server = open.serve(PolicyServer.builder(policy).warmUp(TestPolicies.observation(5), 6)
                .observationCheck(o -> checked.incrementAndGet()));
        assertEquals(List.of(5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f), seen);
        assertEquals(6, checked.get());
        assertTrue(server.isWarm());
        assertEquals("HTTP/1.1 200 OK", get(server.port(), "/readyz")[0]);
    }

    @Test
    void aSampleThePolicyCannotAnswerFailsStartAndClosesThePort() throws Exception {
        Policy failing = obs -> {
            throw new IllegalStateException("no GPU memory left");
        };
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        PolicyServerBuilder builder = PolicyServer.builder(failing).host("127.0.0.1").port(port)
                .warmUp(TestPolicies.observation(1), 3);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> builder.build().start());
        assertTrue(e.getMessage().contains("warm-up with the sample observation failed")
                && e.getMessage().contains("no GPU memory left"), e.getMessage());
        assertFalse(listening(port), "the server closed its port");
    }

    @Test
    void aSampleTheSpecRejectsFailsStartNamingTheKey() {
        ObservationSpec spec = ObservationSpec.builder().array("state", DType.FLOAT32, 2).string("prompt").build();
        Map<String, Object> wrong = Map.of("state", NdArray.ofFloat32(new float[] {1, 2, 3}), "prompt", "x");
        PolicyServerBuilder builder = PolicyServer.builder(new TestPolicies.Echo()).host("127.0.0.1").port(0)
                .observationSpec(spec).warmUp(wrong, 2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> builder.build().start());
        assertTrue(e.getMessage().contains("state"), e.getMessage());
    }

    @Test
    void readyzAnswers503WhileASlowWarmUpRunsWhileHealthzAnswers200() throws Exception {
        CountDownLatch inWarmUp = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Policy slow = obs -> {
            inWarmUp.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Map.of();
        };
        PolicyServer server = PolicyServer.builder(slow).host("127.0.0.1").port(0).healthPort(0)
                .warmUp(TestPolicies.observation(1), 2).build();
        CompletableFuture<PolicyServer> started = CompletableFuture.supplyAsync(server::start);
        try {
            assertTrue(inWarmUp.await(60, TimeUnit.SECONDS), "the warm-up called the policy");
            assertFalse(server.isWarm());
            for (int port : new int[] {server.port(), server.healthPort()}) {
                assertEquals(List.of("HTTP/1.1 503 Service Unavailable", "Service Unavailable: warming up\n"),
                        List.of(get(port, "/readyz")), "port " + port);
                assertEquals(List.of("HTTP/1.1 200 OK", "OK\n"), List.of(get(port, "/healthz")), "port " + port);
            }
            assertFalse(started.isDone(), "start() returns only once warm");
        } finally {
            release.countDown();
        }
        open.add(started.get(60, TimeUnit.SECONDS));
        assertTrue(server.isWarm());
        for (int port : new int[] {server.port(), server.healthPort()}) {
            assertEquals(List.of("HTTP/1.1 200 OK", "OK\n"), List.of(get(port, "/readyz")), "port " + port);
        }
        server.startDraining();
        for (int port : new int[] {server.port(), server.healthPort()}) {
            assertEquals(List.of("HTTP/1.1 503 Service Unavailable", "Service Unavailable: draining\n"),
                    List.of(get(port, "/readyz")), "port " + port);
        }
    }

    @Test
    void withoutWarmUpReadyzIsReadyAsSoonAsStartReturns() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()).warmUp(0));
        assertEquals(List.of("HTTP/1.1 200 OK", "OK\n"), List.of(get(server.port(), "/readyz")));
        assertEquals(List.of("HTTP/1.1 200 OK", "OK\n"), List.of(get(server.port(), "/healthz")));
    }

    @Test
    void theWarmUpsOwnServerIsPlainLoopbackWithoutWarmUpHealthPortOrBatching() throws Exception {
        ServerOptions options = PolicyServer.builder(new TestPolicies.Echo()).port(9000).healthPort(9001).apiKey("k")
                .drainTime(Duration.ofSeconds(3)).warmUp(10).options();
        ServerOptions warmOptions = ServerWarmUp.forWarmUp(options);
        assertEquals("127.0.0.1", warmOptions.host());
        assertEquals(0, warmOptions.port());
        assertEquals(0, warmOptions.warmUp().requests(), "the warm-up's own server does not warm up");
        assertEquals(-1, warmOptions.healthPort());
        assertEquals(0, warmOptions.batching().maxBatch());
        assertEquals(null, warmOptions.apiKey());
        assertEquals(Duration.ZERO, warmOptions.shutdown().drainTime());
        assertEquals(null, warmOptions.exchangeTap());
    }

    @Test
    void syntheticObservationsFollowTheSpecOrAreAlohaSized() {
        ObservationSpec spec = ObservationSpec.builder().array("image", DType.UINT8, ObservationSpec.ANY, ObservationSpec.ANY, 3)
                .array("state", DType.FLOAT64, 7).anyArray("extra").string("prompt").build();
        Map<String, Object> obs = ServerWarmUp.synthetic(spec);
        spec.check(obs);
        assertEquals(List.of("image", "state", "extra", "prompt"), List.copyOf(obs.keySet()));
        Map<String, Object> aloha = ServerWarmUp.synthetic(null);
        Map<?, ?> images = (Map<?, ?>) aloha.get("images");
        assertEquals(4, images.size());
        assertEquals(3 * 224 * 224, ((NdArray) images.get("cam_high")).size());
    }

    @Test
    void badWarmUpSettingsAreRefusedNamingTheProblem() {
        PolicyServerBuilder builder = PolicyServer.builder(new TestPolicies.Echo());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> builder.warmUp(-1)).getMessage().contains("-1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> builder.warmUp(null, 5)).getMessage().contains("null"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> builder.warmUp(TestPolicies.observation(1), 0))
                .getMessage().contains("at least 1"));
    }

    /** Nothing listens on a port closed by a failed start. */
    static boolean listening(int port) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (ConnectException e) {
            return false;
        }
    }
}

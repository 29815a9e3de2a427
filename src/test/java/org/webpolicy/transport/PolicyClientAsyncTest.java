package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.protocol.Envelope;

/**
 * {@link PolicyClient#stepAsync}: pipelined on one connection where the server echoes request
 * ids, one at a time over openpi's raw form, a timeout or a lost connection failing every call
 * sent and not answered (none resent), the bound on calls outstanding, and futures completed on
 * the callback executor.
 */
class PolicyClientAsyncTest {

    /** The scheme these tests run over; {@code PolicyClientAsyncWssTest} runs them over the other. */
    TestTls.Scheme scheme() {
        return TestTls.Scheme.WS;
    }

    private static final String CALLBACK_THREAD = "async-test-callbacks";

    private final TestResources open = new TestResources();
    private final ExecutorService callbacks = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, CALLBACK_THREAD);
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void closeAll() throws Exception {
        open.close();
        callbacks.shutdownNow();
    }

    private PolicyClient client(int port, Duration requestTimeout, int maxOutstanding) {
        return open.add(scheme().client(port).connectTimeout(Duration.ofSeconds(10))
                .requestTimeout(requestTimeout).retryInterval(Duration.ofMillis(50)).maxOutstandingCalls(maxOutstanding)
                .callbackExecutor(callbacks).build());
    }

    private static Map<String, Object> obs(long seq) {
        return Map.of("seq", seq);
    }

    private static Object seqOf(Object request) {
        Map<?, ?> map = (Map<?, ?>) request;
        return map.containsKey(Envelope.OP) ? ((Map<?, ?>) map.get(Envelope.OBS)).get("seq") : map.get("seq");
    }

    private static Object take(BlockingQueue<Object> queue) throws InterruptedException {
        Object o = queue.poll(20, TimeUnit.SECONDS);
        assertNotNull(o, "nothing arrived within 20 s");
        return o;
    }

    private static Throwable failure(CompletableFuture<?> future) throws InterruptedException {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(20, TimeUnit.SECONDS));
        return e.getCause();
    }

    /** Echoes each observation; the first step waits until the test opens the gate. */
    static final class GatedEcho implements Policy {
        final CountDownLatch gate = new CountDownLatch(1);

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            try {
                if (!gate.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never opened the gate");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted");
            }
            return Map.of("echo", observation);
        }
    }

    @Test
    void eightCallsOutstandingOnOneConnectionToOurServerEachGetTheirOwnReply() throws Exception {
        GatedEcho policy = new GatedEcho();
        PolicyServer server = open.serve(scheme().serve(PolicyServer.builder(policy)));
        PolicyClient client = client(server.port(), Duration.ofSeconds(30), 8);
        List<CompletableFuture<Map<String, Object>>> futures = new ArrayList<>();
        List<CompletableFuture<String>> threads = new ArrayList<>();
        for (long seq = 1; seq <= 8; seq++) {
            CompletableFuture<Map<String, Object>> f = client.stepAsync(obs(seq));
            futures.add(f);
            threads.add(f.thenApply(action -> Thread.currentThread().getName()));
        }
        // All 8 reach the server while the first is still being answered: they are pipelined.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (server.metrics().requests.sum() < 8 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(8, server.metrics().requests.sum(), "the 8 calls were not all sent before the first reply");
        assertTrue(futures.stream().noneMatch(CompletableFuture::isDone));
        policy.gate.countDown();
        // The stages first: a thread waiting in get() on a future may run that future's stages itself.
        for (int i = 0; i < 8; i++) {
            assertEquals(CALLBACK_THREAD, threads.get(i).get(20, TimeUnit.SECONDS), "completed off the callback executor");
        }
        for (int i = 0; i < 8; i++) {
            assertEquals(Map.of("echo", obs(i + 1)), futures.get(i).get(20, TimeUnit.SECONDS), "call " + (i + 1));
        }
        assertEquals(1, client.connectionStats().connections());
        // A step after the async calls takes its turn on the same connection.
        assertEquals(Map.of("echo", obs(9)), client.step(obs(9)));
    }

    @Test
    void pipelinedRequestsAreAllSentBeforeAnyReplyEachWithItsOwnId() throws Exception {
        AtomicReference<ScriptedServer.Peer> peerRef = new AtomicReference<>();
        ScriptedServer server = open.add(new ScriptedServer(scheme().serverTls(), ScriptedServer.OUR_HEADERS, new ScriptedServer.Script() {
            @Override
            public void opened(ScriptedServer.Peer peer) {
                peerRef.set(peer);
            }

            @Override
            public void request(ScriptedServer.Peer peer, int n, Object request) {
                // replied to by the test once all have arrived
            }
        }));
        PolicyClient client = client(server.port(), Duration.ofSeconds(30), 8);
        List<CompletableFuture<Map<String, Object>>> futures = new ArrayList<>();
        for (long seq = 1; seq <= 4; seq++) {
            futures.add(client.stepAsync(obs(seq)));
        }
        List<Object> requests = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            requests.add(take(server.requests)); // no reply sent yet
        }
        assertEquals(List.of(1L, 2L, 3L, 4L), requests.stream().map(PolicyClientAsyncTest::seqOf).toList());
        List<Object> ids = requests.stream().map(r -> (Object) ((Map<?, ?>) r).get(Envelope.REQUEST_ID)).toList();
        assertEquals(4, ids.stream().distinct().count(), "each pipelined request carries its own id: " + ids);
        Object[] replies = requests.stream().map(r -> ScriptedServer.envelopeReply(r, Map.of("seq", seqOf(r)))).toArray();
        peerRef.get().send(replies);
        for (long seq = 1; seq <= 4; seq++) {
            assertEquals(Map.of("seq", seq), futures.get((int) seq - 1).get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void rawFormServerGetsOneCallAtATimeInOrder() throws Exception {
        AtomicReference<ScriptedServer.Peer> peerRef = new AtomicReference<>();
        ScriptedServer server = open.add(new ScriptedServer(scheme().serverTls(), Map.of(), new ScriptedServer.Script() {
            @Override
            public void opened(ScriptedServer.Peer peer) {
                peerRef.set(peer);
            }

            @Override
            public void request(ScriptedServer.Peer peer, int n, Object request) {
                // replied to by the test, one at a time
            }
        }));
        PolicyClient client = client(server.port(), Duration.ofSeconds(30), 8);
        List<CompletableFuture<Map<String, Object>>> futures = new ArrayList<>();
        for (long seq = 1; seq <= 4; seq++) {
            futures.add(client.stepAsync(obs(seq)));
        }
        for (long seq = 1; seq <= 4; seq++) {
            Object request = take(server.requests);
            assertEquals(seq, seqOf(request), "calls go in the order they were made");
            assertTrue(!((Map<?, ?>) request).containsKey(Envelope.OP), "openpi's raw form");
            // An openpi server sees the next request only after this reply (no failure possible
            // from a slow machine: a missed pipelining bug at worst).
            assertNull(server.requests.poll(200, TimeUnit.MILLISECONDS), "a second request while one was unanswered");
            peerRef.get().send(Map.of("seq", seq, "reply", true));
        }
        for (long seq = 1; seq <= 4; seq++) {
            assertEquals(Map.of("seq", seq, "reply", true), futures.get((int) seq - 1).get(20, TimeUnit.SECONDS));
        }
        assertEquals(1, server.connections());
    }

    @Test
    void aCallWithoutItsReplyInTimeFailsAndSoDoesEveryLaterCallSentOnThatConnection() throws Exception {
        ScriptedServer server = open.add(new ScriptedServer(scheme().serverTls(), ScriptedServer.OUR_HEADERS, (peer, n, request) -> {
            if (peer.number > 1 || n <= 2) {
                peer.send(ScriptedServer.envelopeReply(request, Map.of("seq", seqOf(request))));
            }
        }));
        PolicyClient client = client(server.port(), Duration.ofMillis(500), 8);
        List<CompletableFuture<Map<String, Object>>> futures = new ArrayList<>();
        for (long seq = 1; seq <= 4; seq++) {
            futures.add(client.stepAsync(obs(seq)));
        }
        assertEquals(Map.of("seq", 1L), futures.get(0).get(20, TimeUnit.SECONDS));
        assertEquals(Map.of("seq", 2L), futures.get(1).get(20, TimeUnit.SECONDS));
        Throwable timedOut = assertInstanceOf(PolicyConnectionException.class, failure(futures.get(2)));
        assertTrue(timedOut.getMessage().contains("No reply from") && timedOut.getMessage().contains("within 500 ms"),
                timedOut.getMessage());
        Throwable dropped = assertInstanceOf(PolicyConnectionException.class, failure(futures.get(3)));
        assertTrue(dropped.getMessage().contains("was dropped before request") && dropped.getMessage().contains("not resent"),
                dropped.getMessage());
        assertEquals(timedOut, dropped.getCause());
        assertEquals(1, server.nextEnded(), "the connection a late reply could arrive on was dropped");
        // The next call reconnects; nothing of the failed ones is sent again.
        assertEquals(Map.of("seq", 5L), client.stepAsync(obs(5)).get(20, TimeUnit.SECONDS));
        List<Object> seqs = new ArrayList<>();
        server.requests.forEach(r -> seqs.add(seqOf(r)));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), seqs);
    }

    @Test
    void aLostConnectionFailsEveryOutstandingCallWithItsCauseAndResendsNothing() throws Exception {
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        ScriptedServer server = open.add(new ScriptedServer(scheme().serverTls(), ScriptedServer.OUR_HEADERS, (peer, n, request) -> {
            seen.add(peer.number + ":" + seqOf(request));
            if (peer.number == 1 && n == 4) {
                // Going away with every request unanswered: close 1001.
                peer.write(ScriptedServer.frame(0x8, new byte[] {0x03, (byte) 0xE9}));
            } else if (peer.number > 1) {
                peer.send(ScriptedServer.envelopeReply(request, Map.of("seq", seqOf(request))));
            }
        }));
        PolicyClient client = client(server.port(), Duration.ofSeconds(30), 8);
        List<CompletableFuture<Map<String, Object>>> futures = new ArrayList<>();
        for (long seq = 1; seq <= 4; seq++) {
            futures.add(client.stepAsync(obs(seq)));
        }
        for (CompletableFuture<Map<String, Object>> f : futures) {
            Throwable e = assertInstanceOf(PolicyConnectionException.class, failure(f));
            assertTrue(e.getMessage().contains("closed with 1001"), e.getMessage());
        }
        assertEquals(Map.of("seq", 5L), client.stepAsync(obs(5)).get(20, TimeUnit.SECONDS));
        assertEquals(List.of("1:1", "1:2", "1:3", "1:4", "2:5"), new ArrayList<>(seen), "a failed call was resent");
    }

    @Test
    void callsBeyondTheBoundAreRefusedAtOnceAndAcceptedAgainOnceOneCompletes() throws Exception {
        AtomicReference<ScriptedServer.Peer> peerRef = new AtomicReference<>();
        ScriptedServer server = open.add(new ScriptedServer(scheme().serverTls(), ScriptedServer.OUR_HEADERS, new ScriptedServer.Script() {
            @Override
            public void opened(ScriptedServer.Peer peer) {
                peerRef.set(peer);
            }

            @Override
            public void request(ScriptedServer.Peer peer, int n, Object request) {
                // replied to by the test, in order, as our server does
            }
        }));
        PolicyClient client = client(server.port(), Duration.ofSeconds(30), 3);
        List<CompletableFuture<Map<String, Object>>> futures = new ArrayList<>();
        for (long seq = 1; seq <= 3; seq++) {
            futures.add(client.stepAsync(obs(seq)));
        }
        RejectedExecutionException refused = assertThrows(RejectedExecutionException.class, () -> client.stepAsync(obs(4)));
        assertTrue(refused.getMessage().contains("3 asynchronous calls") && refused.getMessage().contains("maxOutstandingCalls 3"),
                refused.getMessage());
        List<Object> requests = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            requests.add(take(server.requests));
        }
        assertEquals(List.of(1L, 2L, 3L), requests.stream().map(PolicyClientAsyncTest::seqOf).toList(), "the refused call was queued");
        peerRef.get().send(ScriptedServer.envelopeReply(requests.get(0), Map.of("seq", 1L)));
        assertEquals(Map.of("seq", 1L), futures.get(0).get(20, TimeUnit.SECONDS));
        CompletableFuture<Map<String, Object>> fourth = client.stepAsync(obs(4)); // room again
        peerRef.get().send(ScriptedServer.envelopeReply(requests.get(1), Map.of("seq", 2L)),
                ScriptedServer.envelopeReply(requests.get(2), Map.of("seq", 3L)));
        assertEquals(Map.of("seq", 2L), futures.get(1).get(20, TimeUnit.SECONDS));
        assertEquals(Map.of("seq", 3L), futures.get(2).get(20, TimeUnit.SECONDS));
        Object request4 = take(server.requests);
        assertEquals(4L, seqOf(request4));
        peerRef.get().send(ScriptedServer.envelopeReply(request4, Map.of("seq", 4L)));
        assertEquals(Map.of("seq", 4L), fourth.get(20, TimeUnit.SECONDS));
        assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().maxOutstandingCalls(0));
    }

    @Test
    void continuationsTravelPipelinedAndACallWhoseValueCannotTravelFailsAlone() throws Exception {
        ContinuationWireTest.Continuing policy = new ContinuationWireTest.Continuing();
        PolicyServer server = open.serve(scheme().serve(PolicyServer.builder(policy)));
        PolicyClient client = client(server.port(), Duration.ofSeconds(30), 8);
        assertTrue(client.acceptsContinuation());
        Continuation ints = new Continuation(0, NdArray.ofInt32(new int[] {1, 2}, 1, 2), 7, 0, 0);
        List<CompletableFuture<Map<String, Object>>> futures = new ArrayList<>();
        for (long cursor = 1; cursor <= 5; cursor++) {
            futures.add(cursor == 3 ? client.stepAsync(obs(cursor), ints)
                    : client.stepAsync(obs(cursor), ContinuationWireTest.continuation(cursor, cursor)));
        }
        for (long cursor = 1; cursor <= 5; cursor++) {
            CompletableFuture<Map<String, Object>> f = futures.get((int) cursor - 1);
            if (cursor == 3) {
                Throwable e = assertInstanceOf(IllegalArgumentException.class, failure(f));
                assertTrue(e.getMessage().contains("floating-point"), e.getMessage());
            } else {
                assertEquals(cursor, f.get(20, TimeUnit.SECONDS).get("cursor"), "the reply answers its own cursor");
            }
        }
        assertEquals(1, client.connectionStats().connections(), "the refused call did not drop the connection");
    }

    @Test
    void closingFailsCallsNotSentAndRefusesNewOnes() throws Exception {
        ScriptedServer server = open.add(new ScriptedServer(scheme().serverTls(), ScriptedServer.OUR_HEADERS, (peer, n, request) -> { }));
        PolicyClient client = client(server.port(), Duration.ofSeconds(30), 8);
        CompletableFuture<Map<String, Object>> sent = client.stepAsync(obs(1));
        take(server.requests);
        client.close();
        assertInstanceOf(PolicyConnectionException.class, failure(sent));
        assertThrows(IllegalStateException.class, () -> client.stepAsync(obs(2)));
    }
}

package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.transport.protocol.Envelope;

/**
 * The client against a scripted server that misbehaves on purpose: a reply is only ever taken for
 * its own request; a frame nobody asked for, a second frame for one request, or a reply carrying
 * another request's id fails the call and drops the connection, and the next call starts afresh.
 */
class PolicyClientCorrelationTest {

    /** The scheme these tests run over; {@code PolicyClientCorrelationWssTest} runs them over the other. */
    TestTls.Scheme scheme() {
        return TestTls.Scheme.WS;
    }

    private final TestResources open = new TestResources();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void closeAll() throws Exception {
        pool.shutdownNow();
        open.close();
    }

    private ScriptedServer serve(Map<String, String> headers, ScriptedServer.Script script) throws IOException {
        return open.add(new ScriptedServer(scheme().serverTls(), headers, script));
    }

    private PolicyClient client(ScriptedServer server, ProtocolMode mode) {
        return open.add(scheme().client(server.port()).protocolMode(mode)
                .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(20))
                .retryInterval(Duration.ofMillis(50)).build());
    }

    private static Map<String, Object> obs(long seq) {
        return Map.of("seq", seq);
    }

    /** The sequence number of a request, raw or in a step envelope. */
    private static Object seqOf(Object request) {
        Map<?, ?> map = (Map<?, ?>) request;
        return map.containsKey(Envelope.OP) ? ((Map<?, ?>) map.get(Envelope.OBS)).get("seq") : map.get("seq");
    }

    /** The reply our server gives to {@code request}: its own sequence number, and its id when it has one. */
    private static Map<String, Object> ownReply(Object request) {
        boolean reset = Envelope.OP_RESET.equals(((Map<?, ?>) request).get(Envelope.OP));
        return ScriptedServer.envelopeReply(request, reset ? null : Map.of("seq", seqOf(request)));
    }

    /** The raw-form reply to {@code request}: its own sequence number. */
    private static Map<String, Object> rawReply(Object request) {
        return Map.of("seq", seqOf(request));
    }

    /** Steps {@code seq}; returns null when that step returned its own reply, the failure otherwise. */
    private static PolicyConnectionException stepExpectingOwnReply(PolicyClient client, long seq) {
        try {
            Map<String, Object> action = client.step(obs(seq));
            assertEquals(obs(seq), action, "step " + seq + " was answered with another request's reply");
            return null;
        } catch (PolicyConnectionException e) {
            return e;
        }
    }

    @Test
    void whenTheServerEchoesIdsEveryRequestCarriesAFreshOneAndRepliesAreChecked() throws Exception {
        ScriptedServer server = serve(ScriptedServer.OUR_HEADERS, (peer, n, request) -> peer.send(ownReply(request)));
        PolicyClient client = client(server, ProtocolMode.AUTO);
        for (long seq = 1; seq <= 20; seq++) {
            assertEquals(obs(seq), client.step(obs(seq)), "the action, without the request id");
        }
        client.reset(Map.of("prompt", "fold"));
        List<Object> ids = server.requests.stream().map(r -> (Object) ((Map<?, ?>) r).get(Envelope.REQUEST_ID)).toList();
        assertEquals(LongStream.rangeClosed(1, 21).boxed().toList(), ids);
        assertEquals(1, server.connections());
    }

    @Test
    void aPythonWebpolicyServerGetsEnvelopesWithoutIdsWhenAsked() throws Exception {
        ScriptedServer server = serve(Map.of(), (peer, n, request) -> peer.send(ownReply(request)));
        PolicyClient client = client(server, ProtocolMode.ENVELOPE);
        assertEquals(obs(1), client.step(obs(1)));
        client.reset(Map.of("prompt", "fold"));
        for (Object request : server.requests) {
            assertFalse(((Map<?, ?>) request).containsKey(Envelope.REQUEST_ID), "no id for a server that did not ask: " + request);
        }
        assertEquals(Map.of("prompt", "fold"), ((Map<?, ?>) new ArrayList<>(server.requests).get(1)).get(Envelope.PAYLOAD));
    }

    @Test
    void underAutoAResetPayloadForAServerWithoutOurHeaderIsRefusedNotDropped() throws Exception {
        ScriptedServer server = serve(Map.of(), (peer, n, request) -> peer.send(rawReply(request)));
        PolicyClient client = client(server, ProtocolMode.AUTO);
        client.reset(Map.of()); // openpi: a local no-op
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> client.reset(Map.of("prompt", "fold")));
        assertTrue(e.getMessage().contains("did not announce envelope support"), e.getMessage());
        assertTrue(e.getMessage().contains("ProtocolMode.ENVELOPE"), e.getMessage());
        assertFalse(client.usesEnvelope());
        assertEquals(obs(1), client.step(obs(1)));
        assertEquals(List.of(obs(1)), List.copyOf(server.requests), "no reset was sent in the raw form");
    }

    @Test
    void aBinaryFrameWithNoRequestOutstandingFailsACallAndDropsTheConnection() throws Exception {
        strayFrameBeforeAnyRequest(peer -> peer.send(Map.of("seq", 1L)), "a binary frame of ");
    }

    @Test
    void aTextFrameWithNoRequestOutstandingIsNamedWithItsControlCharactersEscaped() throws Exception {
        PolicyConnectionException e = strayFrameBeforeAnyRequest(peer -> peer.sendText("oops\r\nINFO forged line"),
                "a text frame of 22 characters");
        assertTrue(e.getMessage().contains("oops\\u000d\\u000aINFO forged line"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    private interface Stray {
        void send(ScriptedServer.Peer peer) throws IOException;
    }

    /**
     * The server sends a stray frame right after the metadata on its first connection. Whichever
     * call meets it first (the connect, when it came before the metadata was taken, or the next
     * step) fails naming it; the connection is dropped, and the following step is served afresh.
     */
    private PolicyConnectionException strayFrameBeforeAnyRequest(Stray stray, String named) throws Exception {
        ScriptedServer server = serve(Map.of(), new ScriptedServer.Script() {
            @Override
            public void opened(ScriptedServer.Peer peer) throws IOException {
                if (peer.number == 1) {
                    stray.send(peer);
                }
            }

            @Override
            public void request(ScriptedServer.Peer peer, int n, Object request) throws IOException {
                peer.send(rawReply(request));
            }
        });
        PolicyClient client = client(server, ProtocolMode.AUTO);
        PolicyConnectionException failure = null;
        try {
            client.connect();
        } catch (PolicyConnectionException e) {
            failure = e;
        }
        assertEquals(1, server.nextEnded(), "the client drops the connection that sent the stray frame");
        if (failure == null) {
            failure = assertThrows(PolicyConnectionException.class, () -> client.step(obs(1)));
            assertTrue(failure.getMessage().contains("while no request was outstanding"), failure.getMessage());
        }
        assertTrue(failure.getMessage().contains(named), failure.getMessage());
        assertTrue(failure.getMessage().contains("127.0.0.1:" + server.port()), failure.getMessage());
        assertEquals(obs(2), client.step(obs(2)), "the next call reconnects and is served");
        assertEquals(2, server.connections());
        return failure;
    }

    @Test
    void aSecondFrameForOneRequestFailsACallAndNoStepGetsAnotherStepsReply() throws Exception {
        ScriptedServer server = serve(Map.of(), (peer, n, request) -> {
            if (peer.number == 1 && n == 1) {
                peer.send(rawReply(request), rawReply(request)); // the reply twice, in one write
            } else {
                peer.send(rawReply(request));
            }
        });
        PolicyClient client = client(server, ProtocolMode.RAW);
        PolicyConnectionException first = stepExpectingOwnReply(client, 1);
        assertEquals(1, server.nextEnded(), "the client drops the connection that sent two frames");
        PolicyConnectionException second = stepExpectingOwnReply(client, 2);
        // Step 1 fails when the duplicate came before it took its reply; otherwise step 2 learns of it.
        assertTrue(first == null ^ second == null, "exactly one call fails: " + first + " / " + second);
        PolicyConnectionException e = first != null ? first : second;
        assertTrue(e.getMessage().contains("second frame for one request") || e.getMessage().contains("no request was outstanding"),
                e.getMessage());
        assertNull(stepExpectingOwnReply(client, 3));
    }

    @Test
    void aReplyWithAnotherIdFailsTheCallAndTheNextCallReconnects() throws Exception {
        ScriptedServer server = serve(ScriptedServer.OUR_HEADERS, (peer, n, request) -> {
            Map<String, Object> reply = new LinkedHashMap<>(ownReply(request));
            if (peer.number == 1) {
                reply.put(Envelope.REQUEST_ID, 99L);
            }
            peer.send(reply);
        });
        PolicyClient client = client(server, ProtocolMode.AUTO);
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, () -> client.step(obs(1)));
        assertTrue(e.getMessage().contains("carries request id 99 where request 1 was sent"), e.getMessage());
        assertEquals(1, server.nextEnded());
        assertEquals(obs(2), client.step(obs(2)));
    }

    @Test
    void aReplyToAnOlderRequestIsNeverTakenForTheCurrentOne() throws Exception {
        List<Map<String, Object>> sent = new ArrayList<>();
        ScriptedServer server = serve(ScriptedServer.OUR_HEADERS, (peer, n, request) -> {
            if (peer.number == 1 && n == 2) {
                peer.send(sent.get(0)); // request 1's reply again, as a confused proxy might
            } else {
                Map<String, Object> reply = ownReply(request);
                sent.add(reply);
                peer.send(reply);
            }
        });
        PolicyClient client = client(server, ProtocolMode.AUTO);
        assertEquals(obs(1), client.step(obs(1)));
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, () -> client.step(obs(2)));
        assertTrue(e.getMessage().contains("carries request id 1 where request 2 was sent"), e.getMessage());
        assertEquals(1, server.nextEnded());
        assertEquals(obs(3), client.step(obs(3)));
    }

    @Test
    void aReplyWithoutTheAnnouncedIdFailsTheCall() throws Exception {
        ScriptedServer server = serve(ScriptedServer.OUR_HEADERS,
                (peer, n, request) -> peer.send(Map.of(Envelope.ACTION, Map.of("seq", seqOf(request)))));
        PolicyClient client = client(server, ProtocolMode.AUTO);
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, () -> client.step(obs(1)));
        assertTrue(e.getMessage().contains("carries no request id"), e.getMessage());
        assertEquals(1, server.nextEnded());
    }

    @Test
    void withIdsADuplicatedReplyFailsACallWhateverTheTimingAndNeverAnswersAnotherStep() throws Exception {
        // Every connection answers its first request twice; the client steps again at once.
        ScriptedServer server = serve(ScriptedServer.OUR_HEADERS, (peer, n, request) -> {
            if (n == 1) {
                peer.send(ownReply(request), ownReply(request));
            } else {
                peer.send(ownReply(request));
            }
        });
        PolicyClient client = client(server, ProtocolMode.AUTO);
        int failures = 0;
        for (long seq = 1; seq <= 20; seq++) {
            PolicyConnectionException e = stepExpectingOwnReply(client, seq);
            if (e != null) {
                failures++;
                String m = e.getMessage();
                assertTrue(m.contains("second frame") || m.contains("no request was outstanding") || m.contains("carries request id"),
                        m);
            }
        }
        assertTrue(failures >= 1, "the duplicate was never noticed");
        assertTrue(server.connections() >= failures, failures + " failures on " + server.connections() + " connections");
    }

    @Test
    void closeFromManyThreadsAtOnceFailsTheCallInFlightAndReturnsOnceTheConnectionEnded() throws Exception {
        ScriptedServer server = serve(ScriptedServer.OUR_HEADERS, (peer, n, request) -> {
            // never answers
        });
        PolicyClient client = client(server, ProtocolMode.AUTO);
        Future<Map<String, Object>> step = pool.submit(() -> client.step(obs(1)));
        Object request = server.requests.poll(20, TimeUnit.SECONDS);
        assertEquals(1L, seqOf(request), "the step reached the server");
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> closes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            closes.add(pool.submit(() -> {
                go.await();
                client.close();
                return null;
            }));
        }
        go.countDown();
        for (Future<?> close : closes) {
            close.get(20, TimeUnit.SECONDS);
        }
        ExecutionException e = assertThrows(ExecutionException.class, () -> step.get(20, TimeUnit.SECONDS));
        PolicyConnectionException cause = assertInstanceOf(PolicyConnectionException.class, e.getCause());
        assertTrue(cause.getMessage().contains("client closed"), cause.getMessage());
        assertEquals(1, server.nextEnded(), "the client ended its connection");
        assertThrows(IllegalStateException.class, () -> client.step(obs(2)));
        client.close(); // again: nothing left to do
        assertEquals(1, server.connections());
    }

    @Test
    void closeEndsAConnectionAttemptThatIsWaitingToRetry() throws Exception {
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        PolicyClient client = open.add(scheme().client(port)
                .retryInterval(Duration.ofSeconds(60)).connectTimeout(Duration.ofSeconds(120)).build());
        Future<PolicyClient> connecting = pool.submit(client::connect);
        Thread.sleep(200); // most likely refused once and waiting to retry; any moment must do
        client.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> connecting.get(20, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof PolicyConnectionException || e.getCause() instanceof IllegalStateException,
                String.valueOf(e.getCause()));
        assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().getMessage());
    }
}

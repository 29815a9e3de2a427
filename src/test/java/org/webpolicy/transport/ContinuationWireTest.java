package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.BatchPolicy;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.protocol.ContinuationFields;
import org.webpolicy.transport.protocol.Envelope;
import org.webpolicy.transport.protocol.Headers;

/**
 * Real-time chunking on the wire: the continuation travels only to a server that announced it,
 * reaches its policy as a typed {@link Continuation}, and is answered by an echo the client
 * checks; every other server gets the bytes of a plain step.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class ContinuationWireTest {

    private final Wire wire;

    ContinuationWireTest(Wire wire) {
        this.wire = wire;
    }

    private final TestResources open = new TestResources();
    private final MsgpackCodec codec = new MsgpackCodec();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    /** A chunk under way: 4 actions of 2 joints, 1 of them gone when the reply arrives. */
    static Continuation continuation(long cursor, long generation) {
        float[] a = {0.5f, -0.25f, 0.75f, -0.5f, 1.0f, -0.75f, 1.0f, -0.75f};
        return new Continuation(1, NdArray.ofFloat32(a, 4, 2), cursor, 123_456_789L, generation);
    }

    /** Records what each step brought (empty: a plain step) and answers the cursor it saw. */
    static class Continuing implements Policy {
        final BlockingQueue<Optional<Continuation>> seen = new LinkedBlockingQueue<>();

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            seen.add(Optional.empty());
            return Map.of("actions", NdArray.ofFloat32(new float[] {0f, 0f}, 1, 2));
        }

        @Override
        public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
            seen.add(Optional.of(continuation));
            return Map.of("actions", NdArray.ofFloat32(new float[] {0f, 0f}, 1, 2), "cursor", continuation.cursor());
        }

        @Override
        public boolean acceptsContinuation() {
            return true;
        }
    }

    private RawClient raw(int port) throws InterruptedException {
        RawClient raw = RawClient.connect(wire, port);
        open.add(raw::close);
        return raw;
    }

    private PolicyClient client(int port) {
        return open.add(wire.client(port).connectTimeout(Duration.ofSeconds(10)).build());
    }

    @Test
    void aServerWhosePolicyTakesContinuationsSaysSoAndItsPolicyGetsThem() throws Exception {
        Continuing policy = new Continuing();
        PolicyServer server = open.serve(wire, PolicyServer.builder(policy));
        PolicyClient client = client(server.port());
        assertTrue(client.acceptsContinuation());

        Continuation sent = continuation(40, 3);
        Map<String, Object> action = client.step(Map.of("state", 1.0), sent);
        assertEquals(40L, action.get("cursor"));
        assertEquals(Optional.of(sent), policy.seen.poll(10, TimeUnit.SECONDS));

        // The first step of an episode has no chunk under way: the policy's plain step.
        client.step(Map.of("state", 1.0), null);
        assertEquals(Optional.empty(), policy.seen.poll(10, TimeUnit.SECONDS));
        client.step(Map.of("state", 1.0));
        assertEquals(Optional.empty(), policy.seen.poll(10, TimeUnit.SECONDS));
        // The server's metrics count the step that carried a continuation and the delay it carried.
        String metrics = server.metricsText();
        assertTrue(metrics.contains("\nwebpolicy_continued_steps_total 1\n"), metrics);
        assertTrue(metrics.contains("\nwebpolicy_continuation_delay_actions_count 1\n"), metrics);
        assertTrue(metrics.contains("\nwebpolicy_continuation_delay_actions_sum " + sent.delay() + ".0\n")
                || metrics.contains("\nwebpolicy_continuation_delay_actions_sum " + sent.delay() + "\n"), metrics);

        RawClient raw = raw(server.port());
        assertEquals(Headers.CONTINUATION_VERSION, raw.handshake.getFieldValue(Headers.CONTINUATION));
    }

    @Test
    void float64ActionsTravelAsFloat32AndOtherDtypesAreRefusedBeforeSending() throws Exception {
        Continuing policy = new Continuing();
        PolicyServer server = open.serve(wire, PolicyServer.builder(policy));
        PolicyClient client = client(server.port());
        Continuation wide = new Continuation(0, NdArray.ofFloat64(new double[] {0.5, 1.5}, 1, 2), 7, 0, 0);
        client.step(Map.of(), wide);
        Continuation got = policy.seen.poll(10, TimeUnit.SECONDS).orElseThrow();
        assertEquals(NdArray.ofFloat32(new float[] {0.5f, 1.5f}, 1, 2), got.actions());

        Continuation ints = new Continuation(0, NdArray.ofInt32(new int[] {1, 2}, 1, 2), 7, 0, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.step(Map.of(), ints));
        assertTrue(e.getMessage().contains("floating-point"), e.getMessage());
        client.step(Map.of()); // nothing was sent: the connection is as it was
        assertEquals(Optional.empty(), policy.seen.poll(10, TimeUnit.SECONDS));
    }

    @Test
    void aServerWithoutItGetsAPlainStepAndSaysNothing() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(obs -> Map.of("keys", new ArrayList<>(obs.keySet()))));
        PolicyClient client = client(server.port());
        assertFalse(client.acceptsContinuation());
        assertTrue(client.usesEnvelope());
        assertEquals(List.of("state"), client.step(Map.of("state", 1.0), continuation(5, 1)).get("keys"));

        RawClient raw = raw(server.port());
        assertFalse(raw.handshake.hasFieldValue(Headers.CONTINUATION));
    }

    @Test
    void pythonPeersGetTodaysBytesWithOrWithoutAContinuation() throws Exception {
        RecordingServer recorder = new RecordingServer(wire, null);
        recorder.start();
        recorder.started.await(10, TimeUnit.SECONDS);
        try {
            // The envelope form (a Python webpolicy server): the golden step request, byte for byte.
            try (PolicyClient client = wire.client(recorder.getPort())
                    .protocolMode(ProtocolMode.ENVELOPE).connectTimeout(Duration.ofSeconds(10)).build()) {
                @SuppressWarnings("unchecked")
                Map<String, Object> obs = (Map<String, Object>) goldenMap("webpolicy_step_request").get("obs");
                recorder.reply = WireGoldenTest.golden("webpolicy_step_response");
                assertFalse(client.acceptsContinuation());
                client.step(obs, continuation(9, 2));
                assertArrayEquals(WireGoldenTest.golden("webpolicy_step_request"), recorder.requests.poll(10, TimeUnit.SECONDS));
            }
            // The raw form (an openpi server): the golden observation, byte for byte.
            try (PolicyClient client = wire.client(recorder.getPort())
                    .connectTimeout(Duration.ofSeconds(10)).build()) {
                recorder.reply = WireGoldenTest.golden("openpi_response");
                client.step(goldenMap("obs_aloha"), continuation(9, 2));
                assertArrayEquals(WireGoldenTest.golden("obs_aloha"), recorder.requests.poll(10, TimeUnit.SECONDS));
            }
        } finally {
            recorder.stop(1000);
        }
    }

    @Test
    void aContinuingServerAnswersAPlainStepWithTodaysBytes() throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> action = (Map<String, Object>) goldenMap("webpolicy_step_response").get("action");
        Continuing policy = new Continuing() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                return action;
            }
        };
        PolicyServer server = open.serve(wire, PolicyServer.builder(policy));
        RawClient raw = raw(server.port());
        raw.nextBinary(); // metadata
        raw.send(WireGoldenTest.golden("webpolicy_step_request"));
        assertArrayEquals(WireGoldenTest.golden("webpolicy_step_response"), raw.nextBinary());
    }

    @Test
    void aReplyAnsweringAnotherCursorOrGenerationFailsTheCall() throws Exception {
        Map<String, String> headers = new HashMap<>(ScriptedServer.OUR_HEADERS);
        headers.put(Headers.CONTINUATION, Headers.CONTINUATION_VERSION);
        for (String wrong : List.of("cursor", "generation", "none", "right")) {
            ScriptedServer server = open.add(new ScriptedServer(wire.serverTls(), headers, (peer, n, request) -> {
                Map<String, Object> reply = ScriptedServer.envelopeReply(request, Map.of("ok", true));
                Map<?, ?> rtc = (Map<?, ?>) ((Map<?, ?>) request).get(ContinuationFields.RTC);
                long cursor = (Long) rtc.get(ContinuationFields.CURSOR);
                long generation = (Long) rtc.get(ContinuationFields.GENERATION);
                if (!wrong.equals("none")) {
                    Map<String, Object> echo = new LinkedHashMap<>();
                    echo.put(ContinuationFields.CURSOR, wrong.equals("cursor") ? cursor - 1 : cursor);
                    echo.put(ContinuationFields.GENERATION, wrong.equals("generation") ? generation - 1 : generation);
                    reply.put(ContinuationFields.RTC, echo);
                }
                peer.send(reply);
            }));
            PolicyClient client = client(server.port());
            if (wrong.equals("right")) {
                assertEquals(Map.of("ok", true), client.step(Map.of(), continuation(30, 4)));
                continue;
            }
            PolicyConnectionException e = assertThrows(PolicyConnectionException.class,
                    () -> client.step(Map.of(), continuation(30, 4)), wrong);
            String expected = wrong.equals("none") ? "carries no 'rtc' echo"
                    : wrong.equals("cursor") ? "answers cursor 29 of generation 4" : "answers cursor 30 of generation 3";
            assertTrue(e.getMessage().contains(expected), e.getMessage());
            assertEquals(1, server.nextEnded(), "the connection is dropped");
        }
    }

    /** The text our server sends for a step envelope whose {@code rtc} field is {@code rtc}. */
    private String refusal(PolicyServer server, Object rtc) throws Exception {
        RawClient raw = raw(server.port());
        raw.nextBinary(); // metadata
        Map<String, Object> request = new LinkedHashMap<>();
        request.put(Envelope.OP, Envelope.OP_STEP);
        request.put(Envelope.OBS, Map.of());
        request.put(ContinuationFields.RTC, rtc);
        raw.send(codec.pack(request));
        RawClient.Event event = raw.next();
        assertNotNull(event.text(), "an error text, got " + event);
        return event.text();
    }

    private static Map<String, Object> rtc(Object delay, Object actions, Object cursor) {
        Map<String, Object> rtc = new LinkedHashMap<>();
        rtc.put(ContinuationFields.DELAY, delay);
        rtc.put(ContinuationFields.CONTINUATION, actions);
        rtc.put(ContinuationFields.CURSOR, cursor);
        rtc.put(ContinuationFields.CAPTURE_NS, 5L);
        rtc.put(ContinuationFields.GENERATION, 1L);
        return rtc;
    }

    @Test
    void aMalformedContinuationGetsAClearError() throws Exception {
        Continuing policy = new Continuing();
        PolicyServer server = open.serve(wire, PolicyServer.builder(policy));
        NdArray good = NdArray.ofFloat32(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        Map<Object, String> cases = new LinkedHashMap<>();
        cases.put(rtc(1L, NdArray.ofFloat64(new double[] {1, 2}, 1, 2), 0L), "rtc.continuation must have dtype <f4");
        cases.put(rtc(1L, NdArray.ofFloat32(new float[] {1, 2}, 2), 0L), "rtc.continuation must have shape (H, A), got (2,)");
        cases.put(rtc(1L, "not an array", 0L), "rtc.continuation must be an ndarray");
        cases.put(rtc(-1L, good, 0L), "rtc.delay must be within 0..3");
        cases.put(rtc(4L, good, 0L), "rtc.delay must be within 0..3");
        cases.put(rtc(1.5, good, 0L), "rtc.delay must be an integer");
        cases.put(rtc(1L, good, -2L), "rtc.cursor counts executed actions and cannot be negative");
        cases.put(rtc(1L, good, null), "rtc.cursor must be an integer");
        cases.put(List.of(1, 2), "'rtc' field must be a map");
        for (Map.Entry<Object, String> c : cases.entrySet()) {
            String text = refusal(server, c.getKey());
            assertTrue(text.contains(c.getValue()), c.getValue() + " expected in: " + text);
        }
        assertNull(policy.seen.poll(), "the policy never ran");

        PolicyServer plain = open.serve(wire, PolicyServer.builder(obs -> Map.of()));
        String text = refusal(plain, rtc(1L, good, 0L));
        assertTrue(text.contains("takes no continuation"), text);
    }

    /** Answers each robot's cursor back and records each batch's cursors (-1 for none), in order. */
    static final class ContinuingBatch implements BatchPolicy {
        final List<List<Long>> batches = Collections.synchronizedList(new ArrayList<>());

        @Override
        public List<Map<String, Object>> stepBatch(List<Map<String, Object>> observations) {
            throw new AssertionError("the batch carried continuations; the plain stepBatch must not be called");
        }

        @Override
        public List<Map<String, Object>> stepBatch(List<Map<String, Object>> observations, List<Continuation> continuations) {
            List<Long> cursors = new ArrayList<>();
            List<Map<String, Object>> actions = new ArrayList<>();
            for (int i = 0; i < observations.size(); i++) {
                Continuation c = continuations.get(i);
                cursors.add(c == null ? -1L : c.cursor());
                actions.add(Map.of("robot", observations.get(i).get("robot"), "cursor", c == null ? -1L : c.cursor()));
            }
            batches.add(cursors);
            return actions;
        }

        @Override
        public boolean acceptsContinuation() {
            return true;
        }

        @Override
        public boolean isThreadSafe() {
            return true;
        }
    }

    @Test
    void eachRobotsContinuationReachesTheBatchBesideItsObservation() throws Exception {
        ContinuingBatch policy = new ContinuingBatch();
        // A batch runs only once three observations wait: every robot is in it.
        PolicyServer server = open.serve(wire, PolicyServer.builder(policy).batching(3, Duration.ofSeconds(60)));
        ExecutorService robots = Executors.newFixedThreadPool(3);
        try {
            List<Future<Map<String, Object>>> replies = new ArrayList<>();
            for (long robot = 0; robot < 3; robot++) {
                PolicyClient client = client(server.port());
                long id = robot;
                // Robot 2 starts its episode: no chunk under way.
                Continuation c = robot == 2 ? null : continuation(100 + robot, 1);
                replies.add(robots.submit(() -> client.step(Map.of("robot", id), c)));
            }
            for (long robot = 0; robot < 3; robot++) {
                Map<String, Object> action = replies.get((int) robot).get(30, TimeUnit.SECONDS);
                assertEquals(robot, action.get("robot"));
                assertEquals(robot == 2 ? -1L : 100 + robot, action.get("cursor"));
            }
        } finally {
            robots.shutdownNow();
        }
        assertEquals(1, policy.batches.size(), String.valueOf(policy.batches));
        List<Long> batch = new ArrayList<>(policy.batches.get(0));
        Collections.sort(batch);
        assertEquals(List.of(-1L, 100L, 101L), batch);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> goldenMap(String name) {
        return (Map<String, Object>) codec.unpack(WireGoldenTest.golden(name));
    }
}

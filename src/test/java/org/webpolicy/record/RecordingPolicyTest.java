package org.webpolicy.record;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;

/** What {@link RecordingPolicy} records of failures before sending and of continuations around a policy that is no client. */
class RecordingPolicyTest {

    private static final MsgpackCodec CODEC = new MsgpackCodec();

    @TempDir
    Path dir;

    static List<RecordedExchange> readAll(Path file) throws IOException {
        List<RecordedExchange> out = new ArrayList<>();
        try (RecordingReader r = RecordingReader.open(file)) {
            for (RecordedExchange x = r.next(); x != null; x = r.next()) {
                out.add(x);
            }
        }
        return out;
    }

    private static Map<String, Object> observation(int step) {
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", NdArray.ofFloat64(new double[] {step, 1, 2, 3, 4, 5, 6}));
        obs.put("prompt", "fold");
        return obs;
    }

    @Test
    void aClientStepThatFailsBeforeSendingIsRecordedAsNotSent() throws Exception {
        Path file = dir.resolve("robot.mcap");
        Map<String, Object> unencodable = new LinkedHashMap<>(observation(1));
        unencodable.put("clock", new Object()); // no wire value
        Map<String, Object> afterClose = observation(2);
        try (PolicyServer server = PolicyServer.builder(new RecorderTest.StatePolicy()).host("127.0.0.1").port(0).build().start();
                Recorder recorder = Recorder.builder(file).build()) {
            PolicyClient client = PolicyClient.builder().uri("ws://127.0.0.1:" + server.port()).reconnect(false).build().connect();
            try (RecordingPolicy robot = new RecordingPolicy(client, recorder)) {
                robot.step(observation(0));
                RuntimeException encoding = assertThrows(RuntimeException.class, () -> robot.step(unencodable));
                robot.step(observation(3));
                client.close();
                RuntimeException closed = assertThrows(RuntimeException.class, () -> robot.step(afterClose));

                recorder.close();
                List<RecordedExchange> xs = readAll(file);
                assertEquals(4, xs.size(), "two steps sent, two failed before sending");
                assertTrue(xs.get(0).sent() && xs.get(2).sent());

                RecordedExchange notEncoded = xs.get(1);
                assertFalse(notEncoded.sent());
                assertEquals(0, notEncoded.request().length, "nothing of an observation the codec cannot carry");
                assertTrue(notEncoded.failure().startsWith(encoding.getMessage()), notEncoded.failure());
                assertTrue(notEncoded.failure().contains("cannot be encoded"), notEncoded.failure());
                assertEquals(null, notEncoded.reply());
                assertTrue(notEncoded.requestTimeNs() > xs.get(0).requestTimeNs(), "its time is kept");

                RecordedExchange notSent = xs.get(3);
                assertFalse(notSent.sent());
                assertArrayEquals(CODEC.pack(afterClose), notSent.request(), "the observation, as the codec encodes it");
                assertEquals(closed.getMessage(), notSent.failure());
                assertEquals(3, notSent.index());
            }
        }
    }

    static Continuation continuation(long cursor) {
        return new Continuation(2, NdArray.ofFloat32(new float[] {0.5f, 0.25f, 1, 2}, 2, 2), cursor, 123_456L, 7);
    }

    @Test
    void aContinuationAroundALocalPolicyIsRecordedAsTheEnvelopeOurClientWouldSend() throws Exception {
        Path file = dir.resolve("local.mcap");
        try (Recorder recorder = Recorder.builder(file).build();
                RecordingPolicy robot = new RecordingPolicy(new ContinuingPolicy(), recorder)) {
            robot.step(observation(0));
            robot.step(observation(1), continuation(5));
        }
        List<RecordedExchange> xs = readAll(file);
        assertEquals(2, xs.size());
        try (RecordingReader r = RecordingReader.open(file)) {
            while (r.next() != null) {
                // read to the end for the connections
            }
            Map<String, String> handshake = r.connections().get(1L).handshake();
            assertEquals("1", handshake.get("X-Webpolicy-Continuation"), "a replay announces the continuation");
            assertEquals("envelope", handshake.get("X-Webpolicy-Protocol"));
        }
        RecordedExchange first = xs.get(0);
        assertEquals("envelope", first.form());
        Map<?, ?> request0 = (Map<?, ?>) CODEC.unpack(first.request());
        assertEquals("step", request0.get("__webpolicy_op__"));
        assertFalse(request0.containsKey("rtc"), "no continuation, no rtc");

        RecordedExchange second = xs.get(1);
        Map<?, ?> request = (Map<?, ?>) CODEC.unpack(second.request());
        Map<?, ?> rtc = (Map<?, ?>) request.get("rtc");
        assertEquals(5L, ((Number) rtc.get("cursor")).longValue(), "the continuation is recorded, not the bare observation");
        assertEquals(7L, ((Number) rtc.get("generation")).longValue());
        assertEquals(2L, ((Number) rtc.get("delay")).longValue());
        assertArrayEquals(new float[] {0.5f, 0.25f, 1, 2}, ((NdArray) rtc.get("continuation")).toFloatArray());
        assertEquals(observation(1).get("prompt"), ((Map<?, ?>) request.get("obs")).get("prompt"));

        Map<?, ?> reply = (Map<?, ?>) CODEC.unpack(second.reply());
        assertEquals(5f, ((NdArray) ((Map<?, ?>) reply.get("action")).get("actions")).toFloatArray()[0]);
        assertEquals(5L, ((Number) ((Map<?, ?>) reply.get("rtc")).get("cursor")).longValue(), "the echo a client checks");
    }
}

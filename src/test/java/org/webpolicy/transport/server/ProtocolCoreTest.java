package org.webpolicy.transport.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.ServerOptions;
import org.webpolicy.transport.metrics.ServerMetrics;
import org.webpolicy.transport.protocol.ContinuationFields;
import org.webpolicy.transport.protocol.Envelope;
import org.webpolicy.transport.protocol.RequestFailure;

/**
 * The server's half of the protocol with no socket at all: request bytes in, reply bytes out,
 * for openpi's raw form and webpolicy's envelope form (steps, resets, request ids), and the
 * errors a peer is told. What travels around these bytes (frames, the handshake) is tested
 * elsewhere.
 */
class ProtocolCoreTest {

    private static final MsgpackCodec CODEC = new MsgpackCodec();

    /** Answers with what it was given and counts resets. */
    private static final class Echo implements Policy {
        final List<Map<String, Object>> resets = new ArrayList<>();

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            return Map.of("echo", observation.get("state"));
        }

        @Override
        public void reset(Map<String, Object> payload) {
            resets.add(payload);
        }

        @Override
        public Map<String, Object> metadata() {
            return Map.of("policy", "echo");
        }
    }

    private final Echo policy = new Echo();
    private ProtocolCore core;

    private ProtocolCore core(boolean serverTiming) {
        ServerOptions options = PolicyServer.builder(policy).serverTiming(serverTiming).options();
        ServerMetrics metrics = new ServerMetrics();
        core = new ProtocolCore(policy, options, new PolicyCalls(policy, options, metrics), metrics);
        return core;
    }

    @AfterEach
    void stop() {
        if (core != null) {
            core.shutdownNow();
        }
    }

    private static Map<?, ?> reply(ProtocolCore core, ProtocolCore.Conversation conversation, Object request) {
        List<ByteBuffer> segments = core.answer(conversation, ByteBuffer.wrap(CODEC.pack(request)), null);
        int size = segments.stream().mapToInt(ByteBuffer::remaining).sum();
        ByteBuffer whole = ByteBuffer.allocate(size);
        segments.forEach(s -> whole.put(s.duplicate()));
        return assertInstanceOf(Map.class, CODEC.unpack(whole.array()));
    }

    @Test
    void theMetadataFrameIsThePolicysMetadata() {
        assertEquals(Map.of("policy", "echo"), CODEC.unpack(core(true).metadataMessage()));
    }

    @Test
    void rawFormStepsGetTheActionWithOpenpisTimingFromTheSecondOn() {
        ProtocolCore.Conversation conversation = new ProtocolCore.Conversation();
        Map<?, ?> first = reply(core(true), conversation, Map.of("state", 1.5));
        assertEquals(1.5, first.get("echo"));
        Map<?, ?> timing = assertInstanceOf(Map.class, first.get(Envelope.SERVER_TIMING));
        assertTrue(timing.containsKey("infer_ms"), timing.toString());
        assertFalse(timing.containsKey("prev_total_ms"), "no previous loop before the first reply");
        conversation.replySent();
        Map<?, ?> second = reply(core, conversation, Map.of("state", 2.5));
        assertTrue(((Map<?, ?>) second.get(Envelope.SERVER_TIMING)).containsKey("prev_total_ms"));
    }

    @Test
    void rawFormWithoutServerTimingIsThePolicysActionAlone() {
        assertEquals(Map.of("echo", 3L), reply(core(false), new ProtocolCore.Conversation(), Map.of("state", 3)));
    }

    @Test
    void envelopeStepsAndResetsEchoTheirRequestIds() {
        ProtocolCore.Conversation conversation = new ProtocolCore.Conversation();
        Map<String, Object> step = new LinkedHashMap<>();
        step.put(Envelope.OP, Envelope.OP_STEP);
        step.put(Envelope.OBS, Map.of("state", 4));
        step.put(Envelope.REQUEST_ID, 17);
        Map<?, ?> stepped = reply(core(true), conversation, step);
        assertEquals(Map.of("echo", 4L), stepped.get(Envelope.ACTION), "no server_timing inside the envelope");
        assertEquals(17L, stepped.get(Envelope.REQUEST_ID));

        Map<String, Object> reset = new LinkedHashMap<>();
        reset.put(Envelope.OP, Envelope.OP_RESET);
        reset.put(Envelope.PAYLOAD, Map.of("episode", 2));
        Map<?, ?> acked = reply(core, conversation, reset);
        assertEquals(true, acked.get(Envelope.RESET_ACK));
        assertFalse(acked.containsKey(Envelope.REQUEST_ID), "a request without an id gets none back");
        assertEquals(List.of(Map.of("episode", 2L)), policy.resets);
    }

    @Test
    void badRequestsAreRefusedWithTheirReasonBeforeThePolicyRuns() {
        ProtocolCore c = core(true);
        ProtocolCore.Conversation conversation = new ProtocolCore.Conversation();
        assertRefused(c, conversation, List.of(1, 2), "A request must be a msgpack map, got");
        assertRefused(c, conversation, Map.of(Envelope.OP, "jump"), "Unknown __webpolicy_op__ 'jump'");
        assertRefused(c, conversation, Map.of(Envelope.OP, Envelope.OP_STEP, Envelope.OBS, 5),
                "A step envelope needs an 'obs' map");
        assertRefused(c, conversation, Map.of(Envelope.OP, Envelope.OP_RESET, Envelope.PAYLOAD, "x"),
                "A reset envelope's 'payload' must be a map");
        assertRefused(c, conversation, Map.of(Envelope.OP, Envelope.OP_STEP, Envelope.OBS, Map.of("state", 1),
                ContinuationFields.RTC, Map.of()), "continuation");
        RequestFailure garbage = assertThrows(RequestFailure.class,
                () -> c.answer(conversation, ByteBuffer.wrap(new byte[] {(byte) 0xc1}), null));
        assertTrue(garbage.getMessage().startsWith("Could not decode the request"), garbage.getMessage());
        assertTrue(policy.resets.isEmpty());
    }

    private static void assertRefused(ProtocolCore core, ProtocolCore.Conversation conversation, Object request,
            String reason) {
        RequestFailure e = assertThrows(RequestFailure.class,
                () -> core.answer(conversation, ByteBuffer.wrap(CODEC.pack(request)), null));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}

package org.webpolicy.transport.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.ServerOptions;
import org.webpolicy.transport.frame.InboundBudget;
import org.webpolicy.transport.metrics.ServerMetrics;
import org.webpolicy.transport.protocol.ClientProtocol;
import org.webpolicy.transport.protocol.ContinuationFields;
import org.webpolicy.transport.protocol.Envelope;
import org.webpolicy.transport.protocol.Headers;
import org.webpolicy.transport.protocol.Reply;
import org.webpolicy.transport.protocol.ReplyMismatch;
import org.webpolicy.transport.protocol.Request;
import org.webpolicy.transport.protocol.SessionTerms;
import org.webpolicy.transport.protocol.WireForm;
import org.webpolicy.transport.protocol.WireMessages;

/**
 * The whole protocol, both directions, with no socket: the client's half ({@link ClientProtocol},
 * on the terms it read from the handshake) and the server's half (the handshake's answer,
 * {@link ProtocolCore}) exchange bytes in memory. Raw and envelope forms, request ids and what a
 * wrong one does, resets, the real-time chunking fields, compressed images and error replies.
 * Every exchange goes through the codec's bytes, so what is asserted is what would travel.
 */
class ProtocolBothHalvesTest {

    private static final MsgpackCodec CODEC = new MsgpackCodec();
    private static final String PEER = "ws://memory";

    /** Echoes the state, records what it was given, takes continuations when told to, fails on "fail". */
    private static final class Recorder implements Policy {
        final boolean continuations;
        final List<Map<String, Object>> observations = new ArrayList<>();
        final List<Continuation> continuationsSeen = new ArrayList<>();
        final List<Map<String, Object>> resets = new ArrayList<>();

        Recorder(boolean continuations) {
            this.continuations = continuations;
        }

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            return step(observation, null);
        }

        @Override
        public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
            if ("fail".equals(observation.get("prompt"))) {
                throw new IllegalStateException("the policy could not fold this");
            }
            observations.add(observation);
            continuationsSeen.add(continuation);
            Map<String, Object> action = new LinkedHashMap<>();
            action.put("actions", NdArray.ofFloat32(new float[] {0.5f, -1f}, 1, 2));
            action.put("seen", observation.get("state"));
            return action;
        }

        @Override
        public void reset(Map<String, Object> payload) {
            resets.add(payload);
        }

        @Override
        public boolean acceptsContinuation() {
            return continuations;
        }
    }

    private final List<ProtocolCore> cores = new ArrayList<>();

    @AfterEach
    void stop() {
        cores.forEach(ProtocolCore::shutdownNow);
    }

    /** One connection: the handshake's headers, then requests and replies as bytes. */
    private final class Connection {
        final Recorder policy;
        final ProtocolCore core;
        final ProtocolCore.Conversation conversation = new ProtocolCore.Conversation();
        final Map<String, String> offered;
        final Map<String, String> answered;
        final ClientProtocol client;
        /** The last request's bytes, as they travelled. */
        byte[] lastRequest;

        /**
         * @param policy the server's policy
         * @param ours false for a Python server: it answers none of our headers
         * @param forced the form the client is told to use, or null to follow the server
         * @param imageCodec what the client offers
         */
        Connection(Recorder policy, boolean ours, WireForm forced, ImageCodec imageCodec) {
            this.policy = policy;
            ServerOptions options = PolicyServer.builder(policy).options();
            ServerMetrics metrics = new ServerMetrics();
            core = new ProtocolCore(policy, options, new PolicyCalls(policy, options, metrics), metrics);
            cores.add(core);
            offered = SessionTerms.offer("k3y", imageCodec);
            SessionTerms granted = SessionTerms.answer(offered.get(Headers.IMAGE_CODEC), core.acceptsContinuation(), true);
            answered = ours ? granted.answerHeaders() : Map.of();
            if (ours && granted.compressesImages()) {
                conversation.decompressImages(new InboundBudget(64 << 20));
            }
            // Header names travel in any case: the client reads them case-insensitively.
            Map<String, String> received = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            answered.forEach((name, value) -> received.put(name.toUpperCase(Locale.ROOT), value));
            client = new ClientProtocol(SessionTerms.read(forced, imageCodec, received::get), imageCodec, CODEC, PEER);
        }

        /** Sends {@code request} from the client's half to the server's and back. */
        Reply exchange(Request request) {
            ClientProtocol.Outgoing outgoing = client.encode(request);
            Object reply = serve(outgoing.bytes());
            if (reply instanceof String text) {
                return Reply.error(text);
            }
            return client.read(reply, outgoing.request());
        }

        /** The server's half: the reply's decoded value, or its error text (as RequestRunner sends it). */
        Object serve(List<ByteBuffer> requestBytes) {
            lastRequest = bytes(requestBytes);
            try {
                byte[] reply = bytes(core.answer(conversation, ByteBuffer.wrap(lastRequest), null));
                conversation.replySent();
                return CODEC.unpack(reply);
            } catch (RuntimeException e) {
                return ProtocolCore.describe(e);
            }
        }

        Map<?, ?> lastRequestValue() {
            return assertInstanceOf(Map.class, CODEC.unpack(lastRequest));
        }
    }

    private static byte[] bytes(List<ByteBuffer> segments) {
        ByteBuffer whole = ByteBuffer.allocate(segments.stream().mapToInt(ByteBuffer::remaining).sum());
        segments.forEach(s -> whole.put(s.duplicate()));
        return whole.array();
    }

    private static Map<String, Object> observation(Object state, String prompt) {
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", state);
        obs.put("prompt", prompt);
        return obs;
    }

    // ---- negotiation: what each side decides from each header combination ----

    @Test
    void theClientOffersItsKeyAndAnImageCodecOnlyWhenItHasThem() {
        assertEquals(Map.of(), SessionTerms.offer(null, ImageCodec.RAW));
        Map<String, String> both = SessionTerms.offer("k3y", ImageCodec.jpeg(80));
        assertEquals(List.of(Headers.AUTHORIZATION, Headers.IMAGE_CODEC), List.copyOf(both.keySet()));
        assertEquals("Api-Key k3y", both.get(Headers.AUTHORIZATION));
        assertEquals("jpeg", both.get(Headers.IMAGE_CODEC), "the quality is not negotiated");
    }

    @Test
    void ourServerAnnouncesEnvelopesAndIdsAlwaysAndTheRestOnlyWhenItCan() {
        assertEquals(List.of(Headers.PROTOCOL, Headers.REQUEST_ID),
                List.copyOf(SessionTerms.answer(null, false, true).answerHeaders().keySet()));
        Map<String, String> all = SessionTerms.answer(" PNG ", true, true).answerHeaders();
        assertEquals(List.of(Headers.PROTOCOL, Headers.REQUEST_ID, Headers.CONTINUATION, Headers.IMAGE_CODEC),
                List.copyOf(all.keySet()), "the order the server sends them in");
        assertEquals(List.of(Headers.ENVELOPE, Headers.ECHO, Headers.CONTINUATION_VERSION, "png"), List.copyOf(all.values()));
        assertNull(SessionTerms.answer("png", false, false).imageCodec(), "a server that decodes no images accepts none");
        assertNull(SessionTerms.answer("webp", false, true).imageCodec(), "a codec it cannot decode is declined");
    }

    @Test
    void theClientDecidesFromWhatTheServerAnswered() {
        record Case(String why, Map<String, String> answer, WireForm forced, ImageCodec offered, SessionTerms expected) {
        }
        Map<String, String> ours = Map.of(Headers.PROTOCOL, "envelope", Headers.REQUEST_ID, "echo");
        Map<String, String> oursAll = Map.of(Headers.PROTOCOL, "envelope", Headers.REQUEST_ID, "echo",
                Headers.CONTINUATION, "1", Headers.IMAGE_CODEC, "png");
        List<Case> cases = List.of(
                new Case("openpi (no headers)", Map.of(), null, ImageCodec.PNG, SessionTerms.PLAIN),
                new Case("Python webpolicy, envelope forced", Map.of(), WireForm.ENVELOPE, ImageCodec.RAW,
                        new SessionTerms(WireForm.ENVELOPE, false, null, false)),
                new Case("ours", ours, null, ImageCodec.RAW, new SessionTerms(WireForm.ENVELOPE, true, null, false)),
                new Case("ours, everything", oursAll, null, ImageCodec.PNG, new SessionTerms(WireForm.ENVELOPE, true, "png", true)),
                new Case("ours, raw forced: no ids, no continuation, images still", oursAll, WireForm.RAW, ImageCodec.PNG,
                        new SessionTerms(WireForm.RAW, false, "png", false)),
                new Case("an accepted codec the client did not offer", oursAll, null, ImageCodec.jpeg(),
                        new SessionTerms(WireForm.ENVELOPE, true, null, true)),
                new Case("a codec accepted though none was offered", oursAll, null, ImageCodec.RAW,
                        new SessionTerms(WireForm.ENVELOPE, true, null, true)),
                new Case("an unknown continuation version", Map.of(Headers.PROTOCOL, "envelope", Headers.CONTINUATION, "2"),
                        null, ImageCodec.RAW, new SessionTerms(WireForm.ENVELOPE, false, null, false)),
                new Case("a continuation version with spaces", Map.of(Headers.PROTOCOL, "envelope", Headers.CONTINUATION, " 1 "),
                        null, ImageCodec.RAW, new SessionTerms(WireForm.ENVELOPE, false, null, true)),
                new Case("ids without the envelope: the raw form has no place for them",
                        Map.of(Headers.REQUEST_ID, "echo", Headers.CONTINUATION, "1"), null, ImageCodec.RAW, SessionTerms.PLAIN),
                new Case("another protocol value", Map.of(Headers.PROTOCOL, "Envelope2"), null, ImageCodec.RAW, SessionTerms.PLAIN));
        for (Case c : cases) {
            Map<String, String> received = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            received.putAll(c.answer());
            assertEquals(c.expected(), SessionTerms.read(c.forced(), c.offered(), received::get), c.why());
        }
        assertThrows(IllegalArgumentException.class, () -> new SessionTerms(WireForm.RAW, true, null, false),
                "the raw form has no place for an id");
    }

    // ---- the raw form ----

    @Test
    void againstAServerThatAnswersNoHeadersTheClientSendsTheBareObservation() {
        Connection c = new Connection(new Recorder(true), false, null, ImageCodec.PNG);
        assertEquals(SessionTerms.PLAIN, c.client.terms());
        Continuation continuation = new Continuation(1, NdArray.ofFloat32(new float[] {1f, 2f}, 1, 2), 7, 0, 3);
        Reply first = c.exchange(c.client.step(observation(1.5, "fold"), continuation));
        assertArrayEquals(CODEC.pack(observation(1.5, "fold")), c.lastRequest,
                "the raw form is the observation's bytes and nothing else: no id, no continuation, no compressed image");
        assertEquals(WireForm.RAW, first.form());
        assertEquals(1.5, first.action().get("seen"));
        assertNotNull(first.timing(), "openpi's server_timing, read");
        assertTrue(first.action().containsKey(Envelope.SERVER_TIMING), "and left in the action, as openpi's client does");
        assertNull(first.timing().prevTotalMs(), "no previous request on this connection");
        Reply second = c.exchange(c.client.step(observation(2.5, "fold"), null));
        assertNotNull(second.timing().prevTotalMs());
        assertEquals(Arrays.asList(null, null), c.policy.continuationsSeen, "the raw form has no place for one");
    }

    // ---- the envelope form and request ids ----

    @Test
    void envelopeRequestsAreNumberedOneTwoThreeAndEachReplyEchoesItsOwn() {
        Connection c = new Connection(new Recorder(false), true, null, ImageCodec.RAW);
        for (long id = 1; id <= 3; id++) {
            Reply reply = c.exchange(c.client.step(observation(id, "fold"), null));
            Map<?, ?> sent = c.lastRequestValue();
            assertEquals(List.of(Envelope.OP, Envelope.OBS, Envelope.REQUEST_ID), List.copyOf(sent.keySet()));
            assertEquals(id, sent.get(Envelope.REQUEST_ID));
            assertEquals(id, reply.id());
            assertEquals(id, reply.action().get("seen"));
            assertNull(reply.timing(), "the envelope reply carries no server_timing");
        }
        Reply ack = c.exchange(Request.reset(Map.of("episode", 2)));
        assertEquals(Request.Op.RESET, ack.op());
        assertEquals(4L, ack.id());
        assertEquals(List.of(Map.of("episode", 2L)), c.policy.resets);
        c.exchange(Request.reset(Map.of()));
        assertFalse(c.lastRequestValue().containsKey(Envelope.PAYLOAD), "an empty payload travels as none");
        assertEquals(Map.of(), c.policy.resets.get(1));
    }

    @Test
    void theEnvelopeBytesAreThoseThePythonLibraryAndTheDocumentShow() {
        Connection c = new Connection(new Recorder(false), true, null, ImageCodec.RAW);
        Reply reply = c.exchange(c.client.step(observation(0.25, "fold"), null));
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put(Envelope.OP, Envelope.OP_STEP);
        expected.put(Envelope.OBS, observation(0.25, "fold"));
        expected.put(Envelope.REQUEST_ID, 1L);
        assertArrayEquals(CODEC.pack(expected), c.lastRequest);
        Map<String, Object> expectedReply = new LinkedHashMap<>();
        expectedReply.put(Envelope.ACTION, reply.action());
        expectedReply.put(Envelope.REQUEST_ID, 1L);
        ProtocolCore.Conversation fresh = new ProtocolCore.Conversation();
        assertArrayEquals(CODEC.pack(expectedReply), bytes(c.core.answer(fresh, ByteBuffer.wrap(c.lastRequest), null)));
    }

    @Test
    void aReplyWithAnotherIdOrNoneIsNotTakenAndDropsTheConnection() {
        Connection c = new Connection(new Recorder(false), true, null, ImageCodec.RAW);
        ClientProtocol.Outgoing first = c.client.encode(c.client.step(observation(1, "fold"), null));
        ClientProtocol.Outgoing second = c.client.encode(c.client.step(observation(2, "fold"), null));
        Object firstReply = c.serve(first.bytes());
        ReplyMismatch crossed = assertThrows(ReplyMismatch.class, () -> c.client.read(firstReply, second.request()));
        assertEquals("The reply from ws://memory carries request id 1 where request 2 was sent; it is not this request's"
                + " reply, and the connection was dropped", crossed.getMessage());
        assertTrue(crossed.dropsConnection);

        Map<String, Object> bare = new LinkedHashMap<>(Map.of(Envelope.ACTION, Map.of()));
        ReplyMismatch none = assertThrows(ReplyMismatch.class, () -> c.client.read(bare, second.request()));
        assertTrue(none.getMessage().contains("carries no request id where request 2 was sent"), none.getMessage());
        ReplyMismatch notMap = assertThrows(ReplyMismatch.class, () -> c.client.read(List.of(1), second.request()));
        assertTrue(notMap.dropsConnection && notMap.getMessage().contains("is not a map"), notMap.getMessage());
    }

    @Test
    void aServerThatEchoesNoIdsGetsNoneAndItsOldBareRepliesAreActions() {
        Connection c = new Connection(new Recorder(false), false, WireForm.ENVELOPE, ImageCodec.RAW);
        Request sent = c.client.encode(c.client.step(observation(1, "fold"), null)).request();
        assertNull(sent.id());
        Map<String, Object> bareAction = new LinkedHashMap<>(Map.of("actions", 1L));
        assertEquals(bareAction, c.client.read(bareAction, sent).action(), "a server older than the envelope");
        ReplyMismatch actionNotMap = assertThrows(ReplyMismatch.class,
                () -> c.client.read(new LinkedHashMap<>(Map.of(Envelope.ACTION, 5L)), sent));
        assertFalse(actionNotMap.dropsConnection, "its own reply, unusable: the connection goes on");
        Request reset = c.client.encode(Request.reset(null)).request();
        ReplyMismatch noAck = assertThrows(ReplyMismatch.class, () -> c.client.read(new LinkedHashMap<>(Map.of()), reset));
        assertEquals("The server did not acknowledge the reset; it answered {}", noAck.getMessage());
        assertFalse(noAck.dropsConnection);
    }

    // ---- errors ----

    @Test
    void aRequestTheServerCannotAnswerGetsAnErrorTextNamingTheProblem() {
        Connection c = new Connection(new Recorder(false), true, null, ImageCodec.RAW);
        Map<String, Object> unknown = new LinkedHashMap<>(Map.of(Envelope.OP, "jump"));
        Object text = c.serve(CODEC.encode(unknown));
        assertEquals("Unknown __webpolicy_op__ 'jump': expected 'step' or 'reset' (str)", text);
        Reply failed = c.exchange(c.client.step(observation(1, "fail"), null));
        assertTrue(failed.isError());
        assertTrue(failed.error().contains("IllegalStateException: the policy could not fold this"),
                "the policy's exception as a traceback, as the Python servers send it: " + failed.error());
        assertEquals(2L, c.client.encode(c.client.step(observation(1, "fold"), null)).request().id(),
                "the failed request used up its id");
    }

    // ---- real-time chunking ----

    @Test
    void aContinuationTravelsOnlyWhereTheServerTakesOneAndItsEchoIsChecked() {
        Continuation continuation = new Continuation(1, NdArray.ofFloat64(new double[] {1, 2, 3, 4}, 2, 2), 40, 123, 6);
        Connection takes = new Connection(new Recorder(true), true, null, ImageCodec.RAW);
        assertTrue(takes.client.terms().continuation());
        Reply reply = takes.exchange(takes.client.step(observation(1, "fold"), continuation));
        Map<?, ?> rtc = assertInstanceOf(Map.class, takes.lastRequestValue().get(ContinuationFields.RTC));
        NdArray actions = assertInstanceOf(NdArray.class, rtc.get(ContinuationFields.CONTINUATION));
        assertEquals(DType.FLOAT32, actions.dtype(), "float64 actions travel as float32");
        assertEquals(new Reply.Echo(40, 6), reply.echo());
        Continuation seen = takes.policy.continuationsSeen.get(0);
        assertEquals(40, seen.cursor());
        assertEquals(1, seen.delay());

        Connection declines = new Connection(new Recorder(false), true, null, ImageCodec.RAW);
        declines.exchange(declines.client.step(observation(1, "fold"), continuation));
        assertFalse(declines.lastRequestValue().containsKey(ContinuationFields.RTC), "dropped, not sent");

        // A client that sends one anyway is told why; a reply echoing another cursor is not this request's.
        Object refused = declines.serve(CODEC.encode(Map.of(Envelope.OP, Envelope.OP_STEP, Envelope.OBS, Map.of(),
                ContinuationFields.RTC, ContinuationFields.request(continuation))));
        assertInstanceOf(String.class, refused);
        assertTrue(((String) refused).contains("takes no continuation"), (String) refused);
        Request sent = takes.client.encode(takes.client.step(observation(1, "fold"), continuation)).request();
        Map<String, Object> wrongEcho = new LinkedHashMap<>();
        wrongEcho.put(Envelope.ACTION, Map.of());
        wrongEcho.put(ContinuationFields.RTC, Map.of(ContinuationFields.CURSOR, 39L, ContinuationFields.GENERATION, 6L));
        wrongEcho.put(Envelope.REQUEST_ID, sent.id());
        ReplyMismatch crossed = assertThrows(ReplyMismatch.class, () -> takes.client.read(wrongEcho, sent));
        assertTrue(crossed.dropsConnection);
        assertTrue(crossed.getMessage().contains("answers cursor 39 of generation 6 where cursor 40 of generation 6 was sent"),
                crossed.getMessage());
    }

    // ---- compressed images ----

    @Test
    void imagesTravelCompressedOnlyWhereAcceptedAndThePolicySeesTheArray() {
        byte[] pixels = new byte[16 * 16 * 3];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 7);
        }
        NdArray image = NdArray.ofUint8(pixels, 16, 16, 3);
        Map<String, Object> obs = new LinkedHashMap<>(Map.of("cam", image));

        Connection accepted = new Connection(new Recorder(false), true, null, ImageCodec.PNG);
        assertEquals("png", accepted.client.terms().imageCodec());
        accepted.exchange(accepted.client.step(obs, null));
        Map<?, ?> onWire = assertInstanceOf(Map.class, ((Map<?, ?>) accepted.lastRequestValue().get(Envelope.OBS)).get("cam"));
        assertEquals("png", onWire.get("codec"));
        assertEquals(image, accepted.policy.observations.get(0).get("cam"), "PNG is lossless: the policy sees the very array");

        Connection python = new Connection(new Recorder(false), false, null, ImageCodec.PNG);
        python.exchange(python.client.step(obs, null));
        assertEquals(image, python.policy.observations.get(0).get("cam"));
        assertArrayEquals(CODEC.pack(obs), python.lastRequest, "not accepted: the array itself, byte for byte");
    }

    @Test
    void requestsAndRepliesRoundTripThroughTheOneEncoder() {
        Continuation continuation = new Continuation(0, NdArray.ofFloat32(new float[] {1f, 2f}, 1, 2), 3, 4, 5);
        for (Request request : List.of(Request.raw(observation(1, "a")), Request.step(observation(2, "b"), null).withId(9L),
                Request.step(observation(3, "c"), continuation).withId(10L), Request.reset(Map.of("x", 1L)).withId(11L),
                Request.reset(null))) {
            Object decoded = CODEC.unpack(CODEC.pack(WireMessages.value(request)));
            Request back = WireMessages.request(decoded, () -> true);
            assertEquals(request.form(), back.form());
            assertEquals(request.op(), back.op());
            assertEquals(request.id(), back.id());
            assertEquals(request.observation() == null ? null : request.observation().keySet(),
                    back.observation() == null ? null : back.observation().keySet());
            assertEquals(request.payload(), back.payload());
            assertEquals(request.continuation() == null ? null : Reply.Echo.of(request.continuation()),
                    back.continuation() == null ? null : Reply.Echo.of(back.continuation()));
        }
        assertThrows(IllegalArgumentException.class, () -> Request.raw(Map.of()).withId(1L), "the raw form carries no id");
    }
}

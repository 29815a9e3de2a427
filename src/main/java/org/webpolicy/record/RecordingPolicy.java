package org.webpolicy.record;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Continuation;
import org.webpolicy.image.compression.ImageCodecNegotiation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.frame.CapturedRequest;
import org.webpolicy.transport.frame.ClientCapture;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.protocol.Envelope;
import org.webpolicy.transport.protocol.Headers;
import org.webpolicy.transport.protocol.Reply;
import org.webpolicy.transport.protocol.Request;
import org.webpolicy.transport.protocol.WireMessages;

/**
 * Any {@link Policy} whose steps and resets are recorded: on a robot around a {@code PolicyClient}
 * or a broker, or around a local model; the wrapped policy's answer is returned unchanged.
 *
 * <p>Around a {@link PolicyClient} the recording is the wire's: a {@link ClientCapture} armed for
 * the call takes the request frame the client built (handed over whole, not copied) and the
 * reply as it arrived, and the recorder's writer thread unmasks and writes them. The control
 * thread pays a few field writes and a queue offer per step, whatever the observation's size.
 * When the client has no free frame buffer to hand over (the writer is that far behind), the
 * step is dropped and counted like any other the recorder cannot keep.
 *
 * <p>Around anything else, each step's observation and action are encoded with the codec on the
 * calling thread by reference (array bytes are not copied) and queued: the bare observation and
 * action, or, around a policy that takes a continuation, the envelopes our client and server
 * would exchange for it, the continuation included.
 *
 * <p>A call that fails before anything went on the wire (an observation the codec cannot carry,
 * a client whose connection is gone) is recorded too, as not sent
 * ({@link RecordedExchange#sent()}), with the error and what was known of the request.
 *
 * <p>The whole wrapper is one recorded connection; its metadata is the wrapped policy's.
 * Closing it closes the wrapped policy, not the recorder.
 */
public final class RecordingPolicy implements Policy {

    private static final MsgpackCodec CODEC = new MsgpackCodec();
    private static final List<ByteBuffer> RESET_ACK = CODEC.encode(Map.of(Envelope.RESET_ACK, true));
    /** What our server's handshake says, which a replay then says too: envelopes, request ids echoed. */
    private static final Map<String, String> ENVELOPE_HANDSHAKE =
            Map.of(Headers.PROTOCOL, Headers.ENVELOPE, Headers.REQUEST_ID, Headers.ECHO);

    private final Policy policy;
    private final Recorder recorder;
    private final long connection;
    /** Armed around each call of a {@link PolicyClient}; null around anything else. */
    private final ClientCapture capture;
    /**
     * Around a policy (not a client) that takes a continuation: steps are recorded as our client
     * would send them to our server for it (envelopes, the continuation under its key) and the
     * replies as that server answers, so a replay gives a client the continuation's echo it checks.
     */
    private final boolean envelope;

    /**
     * Wraps {@code policy}; asks it for its metadata once, now, for the recording.
     *
     * @param policy the policy to record (a client, a broker, a model)
     * @param recorder where its exchanges go
     */
    public RecordingPolicy(Policy policy, Recorder recorder) {
        this(policy, recorder, policy instanceof PolicyClient client ? client : null);
    }

    /**
     * Wraps {@code policy}, a thin wrapper of {@code client} (one that logs or times its calls)
     * that calls the client once per step and reset, on the calling thread: what goes on the wire
     * is recorded, as around the client itself. A step in which the client sent nothing is not
     * recorded: a broker, which answers most steps from its chunk, is wrapped with the other
     * constructor instead.
     *
     * @param policy the policy to record
     * @param recorder where its exchanges go
     * @param client the client {@code policy} calls, or null to encode observations and actions
     */
    public RecordingPolicy(Policy policy, Recorder recorder, PolicyClient client) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.recorder = Objects.requireNonNull(recorder, "recorder");
        Map<String, Object> metadata = policy.metadata();
        Map<String, String> handshake = Map.of();
        if (client != null) {
            this.capture = new ClientCapture();
            Map<String, String> h = new LinkedHashMap<>(client.usesEnvelope() ? ENVELOPE_HANDSHAKE : Map.of());
            ImageCodecNegotiation.offer(client.imageCodecInUse()).ifPresent(token -> h.put(ImageCodecNegotiation.HEADER, token));
            handshake = h;
        } else {
            this.capture = null;
            if (policy.acceptsContinuation()) {
                handshake = Map.of(Headers.PROTOCOL, Headers.ENVELOPE, Headers.REQUEST_ID, Headers.ECHO,
                        Headers.CONTINUATION, Headers.CONTINUATION_VERSION);
            }
        }
        this.envelope = capture == null && policy.acceptsContinuation();
        this.connection = recorder.connectionOpened(policy.getClass().getSimpleName(), handshake,
                CODEC.encode(metadata == null ? Map.of() : metadata));
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        return step(observation, null);
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        if (capture != null) {
            return captured(observation, continuation);
        }
        long t0 = System.nanoTime();
        List<ByteBuffer> request;
        String unencodable = null;
        try {
            request = CODEC.encode(envelope ? WireMessages.value(Request.step(observation, continuation)) : observation);
        } catch (RuntimeException e) {
            // The policy is called all the same: recording never changes what the caller gets.
            request = null;
            unencodable = "the observation cannot be encoded: " + e.getMessage();
        }
        Map<String, Object> action;
        try {
            action = continuation == null ? policy.step(observation) : policy.step(observation, continuation);
        } catch (RuntimeException e) {
            if (request != null) {
                recorder.failed(connection, request, String.valueOf(e.getMessage()), t0, System.nanoTime());
            } else {
                recorder.failedBeforeSending(connection, List.of(), unencodable + "; then: " + e.getMessage(), t0,
                        System.nanoTime());
            }
            throw e;
        }
        long t1 = System.nanoTime();
        if (request == null) {
            recorder.failedBeforeSending(connection, List.of(), unencodable, t0, t1);
            return action;
        }
        List<ByteBuffer> reply;
        try {
            reply = CODEC.encode(envelope
                    ? WireMessages.value(Reply.step(action, continuation == null ? null : Reply.Echo.of(continuation), null))
                    : action);
        } catch (RuntimeException e) {
            return action; // an action the codec cannot encode is the caller's business, not the recording's
        }
        recorder.exchanged(connection, request, reply, t0, t1);
        return action;
    }

    /** A step of the wrapped client, recorded from the bytes it sent and received. */
    private Map<String, Object> captured(Map<String, Object> observation, Continuation continuation) {
        long t0 = System.nanoTime();
        Map<String, Object> action;
        capture.arm();
        try {
            action = continuation == null ? policy.step(observation) : policy.step(observation, continuation);
        } catch (RuntimeException e) {
            handOff(t0, String.valueOf(e.getMessage()), () -> observation);
            throw e;
        } finally {
            capture.disarm();
        }
        handOff(t0, null, null);
        return action;
    }

    /**
     * Gives what the capture caught to the recorder; a request sent but not caught counts as
     * dropped, one that failed before it was sent is recorded as such with {@code unsent}'s
     * encoding (the observation, or a reset's envelope).
     */
    private void handOff(long t0, String failure, java.util.function.Supplier<Object> unsent) {
        long t1 = System.nanoTime();
        CapturedRequest request = capture.takeRequest();
        ByteBuffer reply = capture.reply();
        boolean missed = capture.missed();
        capture.discard();
        if (request == null) {
            if (missed) {
                recorder.droppedBeforeHandOff();
            } else if (failure != null && unsent != null) {
                // Failing is the rare path: encoding what was known costs the caller nothing in the steady state.
                List<ByteBuffer> known;
                String why = failure;
                try {
                    known = CODEC.encode(unsent.get());
                } catch (RuntimeException e) {
                    known = List.of();
                    why = failure + " (the request cannot be encoded: " + e.getMessage() + ")";
                }
                recorder.failedBeforeSending(connection, known, why, t0, t1);
            }
            return; // nothing went out and nothing failed (a wrapper that did not call the client): nothing to record
        }
        if (failure == null && reply != null) {
            recorder.exchanged(connection, request, reply, t0, t1);
        } else {
            recorder.failed(connection, request, failure == null ? "no reply" : failure, t0, t1);
        }
    }

    @Override
    public void reset(Map<String, Object> payload) {
        if (capture != null) {
            long t0 = System.nanoTime();
            capture.arm();
            try {
                policy.reset(payload);
            } catch (RuntimeException e) {
                handOff(t0, String.valueOf(e.getMessage()), () -> WireMessages.value(Request.reset(payload)));
                throw e;
            } finally {
                capture.disarm();
            }
            handOff(t0, null, null);
            return;
        }
        long t0 = System.nanoTime();
        List<ByteBuffer> request = CODEC.encode(WireMessages.value(Request.reset(payload)));
        policy.reset(payload);
        recorder.exchanged(connection, request, RESET_ACK, t0, System.nanoTime());
    }

    @Override
    public Map<String, Object> metadata() {
        return policy.metadata();
    }

    @Override
    public boolean acceptsContinuation() {
        return policy.acceptsContinuation();
    }

    @Override
    public boolean isThreadSafe() {
        return policy.isThreadSafe();
    }

    @Override
    public void close() {
        policy.close();
    }
}

package org.webpolicy.record;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;

/**
 * Any {@link Policy} whose steps and resets are recorded: on a robot around a {@code PolicyClient}
 * or a broker, or around a local model. Each step's observation and action are encoded with the
 * codec on the calling thread by reference (array bytes are not copied: a few microseconds for an
 * ALOHA observation and its action) and queued to the {@link Recorder}; the wrapped policy's answer is
 * returned unchanged. Around a {@code PolicyClient} in the raw form the recorded observation is
 * byte for byte the request the client sent (it encodes with the same codec); in the envelope form it
 * is the {@code obs} inside it. Resets are recorded as envelope resets.
 *
 * <p>The whole wrapper is one recorded connection; its metadata is the wrapped policy's.
 * Closing it closes the wrapped policy, not the recorder.
 */
public final class RecordingPolicy implements Policy {

    private static final MsgpackCodec CODEC = new MsgpackCodec();
    private static final List<ByteBuffer> RESET_ACK = CODEC.encode(Map.of("__webpolicy_reset_ack__", true));

    private final Policy policy;
    private final Recorder recorder;
    private final long connection;

    /**
     * Wraps {@code policy}; asks it for its metadata once, now, for the recording.
     *
     * @param policy the policy to record (a client, a broker, a model)
     * @param recorder where its exchanges go
     */
    public RecordingPolicy(Policy policy, Recorder recorder) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.recorder = Objects.requireNonNull(recorder, "recorder");
        Map<String, Object> metadata = policy.metadata();
        this.connection = recorder.connectionOpened(policy.getClass().getSimpleName(),
                CODEC.encode(metadata == null ? Map.of() : metadata));
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        return step(observation, null);
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        long t0 = System.nanoTime();
        List<ByteBuffer> request = CODEC.encode(observation);
        Map<String, Object> action;
        try {
            action = continuation == null ? policy.step(observation) : policy.step(observation, continuation);
        } catch (RuntimeException e) {
            recorder.failed(connection, request, String.valueOf(e.getMessage()), t0, System.nanoTime());
            throw e;
        }
        long t1 = System.nanoTime();
        List<ByteBuffer> reply;
        try {
            reply = CODEC.encode(action);
        } catch (RuntimeException e) {
            return action; // an action the codec cannot encode is the caller's business, not the recording's
        }
        recorder.exchanged(connection, request, reply, t0, t1);
        return action;
    }

    @Override
    public void reset(Map<String, Object> payload) {
        Map<String, Object> envelope = new LinkedHashMap<>();
        envelope.put("__webpolicy_op__", "reset");
        if (payload != null && !payload.isEmpty()) {
            envelope.put("payload", payload);
        }
        long t0 = System.nanoTime();
        List<ByteBuffer> request = CODEC.encode(envelope);
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

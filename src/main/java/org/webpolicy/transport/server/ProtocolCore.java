package org.webpolicy.transport.server;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.webpolicy.codec.DecodeException;
import org.webpolicy.codec.DecodeMemory;
import org.webpolicy.codec.EncodeException;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.ServerOptions;
import org.webpolicy.transport.frame.InboundBudget;
import org.webpolicy.transport.metrics.ServerMetrics;
import org.webpolicy.transport.protocol.ClientText;
import org.webpolicy.transport.protocol.FailureKind;
import org.webpolicy.transport.protocol.Headers;
import org.webpolicy.transport.protocol.Reply;
import org.webpolicy.transport.protocol.Request;
import org.webpolicy.transport.protocol.RequestFailure;
import org.webpolicy.transport.protocol.ServerTiming;
import org.webpolicy.transport.protocol.WireForm;
import org.webpolicy.transport.protocol.WireMessages;

/**
 * What the server does with one request, whatever carries it: bytes in, bytes out. Decodes the
 * message into a {@link Request} ({@link WireMessages}, which tells the raw (openpi) form from the
 * envelope (webpolicy) form), checks the observation, calls the policy and encodes the
 * {@link Reply} with its timing. Knows nothing of sockets or frames.
 *
 * <p>A request that cannot be answered throws {@link RequestFailure} with a reason for the
 * client; anything else the policy throws is passed on, and {@link #describe(Throwable)} turns it
 * into the text the Python servers send (the stack trace).
 */
public final class ProtocolCore {

    private final Policy policy;
    private final MsgpackCodec codec;
    private final ServerOptions options;
    private final PolicyCalls calls;
    private final ImageInflation images;
    private final ServerMetrics metrics;
    private final byte[] metadataMessage;

    /**
     * A core for one server; it packs the metadata message once, here.
     *
     * @param policy the policy served
     * @param options the server's options (limits, metadata, observation check and spec)
     * @param calls how the policy is called (lock, deadline, batching)
     * @param metrics what the server counts
     */
    public ProtocolCore(Policy policy, ServerOptions options, PolicyCalls calls, ServerMetrics metrics) {
        this.policy = policy;
        this.options = options;
        this.calls = calls;
        this.metrics = metrics;
        // A request's decoded value is held to the same bound as its bytes (and charged to the
        // inbound budget as it is built, see answer): a few bytes per element on the wire are tens
        // of bytes of objects.
        this.codec = new MsgpackCodec(options.limits().maxDepth(), options.limits().maxMessageBytes());
        this.images = new ImageInflation(options.limits().maxMessageBytes(), ImageDecodePool.forServer(options.limits().maxConcurrentRequests()),
                options.limits().policyTimeout() != null ? options.limits().policyTimeout() : ImageInflation.DEFAULT_DEADLINE);
        Map<String, Object> metadata = options.metadata() != null ? options.metadata() : policy.metadata();
        if (options.observationSpec() != null) {
            metadata = new LinkedHashMap<>(metadata == null ? Map.of() : metadata);
            metadata.put("observation_spec", options.observationSpec().toMetadata());
        }
        this.metadataMessage = codec.pack(metadata == null ? Map.of() : metadata);
    }

    /**
     * The message every connection gets first.
     *
     * @return the packed metadata; not to be modified
     */
    public byte[] metadataMessage() {
        return metadataMessage;
    }

    /**
     * True when the policy takes a continuation (real-time chunking): the handshake then says so
     * ({@link Headers#CONTINUATION}) and step envelopes may carry one. Asked at each
     * handshake, so a policy that learns it later (a client of another server) is not fixed early.
     *
     * @return whether the policy takes one now
     */
    public boolean acceptsContinuation() {
        return policy.acceptsContinuation();
    }

    /**
     * What the server counts.
     *
     * @return the metrics
     */
    public ServerMetrics metrics() {
        return metrics;
    }

    /**
     * Where compressed images are decoded (for tests and the campaign).
     *
     * @return the pool
     */
    public ImageDecodePool imageDecodes() {
        return images.pool();
    }

    /** Stops the threads the core owns (image decoding). */
    public void shutdownNow() {
        images.pool().shutdownNow();
    }

    /** What the core remembers of one connection between its requests: openpi's timing. */
    public static final class Conversation {
        /** When the current openpi-style loop began: after the previous reply was sent. */
        private long loopStart = System.nanoTime();
        /** The previous request's whole duration, for {@code server_timing.prev_total_ms}. */
        private Double prevTotalMs;
        /** Set when the handshake accepted compressed images: their decoded bytes are held here. */
        private volatile InboundBudget imageBudget;
        /** Set when the connection has gone: work still running for it stops. */
        private volatile boolean ended;

        /**
         * The handshake accepted an image codec: observations' images are decoded, held in {@code budget}.
         *
         * @param budget the server's inbound memory budget
         */
        public void decompressImages(InboundBudget budget) {
            imageBudget = budget;
        }

        /** The connection has gone: its image decoding stops. */
        void end() {
            ended = true;
        }

        boolean ended() {
            return ended;
        }

        /** Marks the reply to the current request as sent: the next loop starts now. */
        void replySent() {
            long now = System.nanoTime();
            prevTotalMs = (now - loopStart) / 1e6;
            loopStart = now;
        }
    }

    /**
     * The encoded reply to {@code message}, as the codec's segments (array data by reference).
     * What decoding builds is charged to {@code memory} before it is allocated (null: not charged,
     * only the codec's per-message limit holds).
     */
    List<ByteBuffer> answer(Conversation conversation, ByteBuffer message, DecodeMemory memory) {
        Object decoded;
        long decodeStart = System.nanoTime();
        try {
            decoded = codec.unpack(message, memory);
            metrics.decodeSeconds.recordNanos(System.nanoTime() - decodeStart);
        } catch (DecodeException e) {
            throw new RequestFailure("Could not decode the request (" + e.problem() + "): "
                    + ClientText.quote(e.getMessage(), 4 * ClientText.MAX_QUOTED_CHARS));
        }
        Request request = WireMessages.request(decoded, policy::acceptsContinuation);
        if (request.form() == WireForm.RAW) {
            long t0 = System.nanoTime();
            Map<String, Object> action = step(conversation, request.observation(), null);
            double inferMs = (System.nanoTime() - t0) / 1e6;
            ServerTiming timing = options.serverTiming() ? new ServerTiming(inferMs, conversation.prevTotalMs) : null;
            return encode(WireMessages.value(Reply.raw(action, timing)));
        }
        if (request.op() == Request.Op.STEP) {
            Continuation continuation = request.continuation();
            if (continuation != null) {
                metrics.continued(continuation.delay());
            }
            Map<String, Object> action = step(conversation, request.observation(), continuation);
            Reply.Echo echo = continuation == null ? null : Reply.Echo.of(continuation);
            return encode(WireMessages.value(Reply.step(action, echo, request.id())));
        }
        Map<String, Object> payload = request.payload() == null ? Map.of() : request.payload();
        calls.call(() -> {
            policy.reset(payload);
            return null;
        });
        return encode(WireMessages.value(Reply.resetAck(request.id())));
    }

    /** Decodes compressed images first where the handshake accepted them, so the check and the policy see arrays. */
    private Map<String, Object> step(Conversation conversation, Map<String, Object> observation, Continuation continuation) {
        InboundBudget budget = conversation.imageBudget;
        return budget == null ? step(observation, continuation)
                : images.inflated(observation, budget, conversation::ended, inflated -> step(inflated, continuation));
    }

    private Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        if (options.observationCheck() != null) {
            try {
                options.observationCheck().accept(observation);
            } catch (IllegalArgumentException e) {
                throw new RequestFailure(FailureKind.REJECTED, "Observation rejected: " + ClientText.quote(ClientText.reason(e), 4 * ClientText.MAX_QUOTED_CHARS));
            }
        }
        Map<String, Object> action = calls.step(observation, continuation);
        if (action == null) {
            throw new RequestFailure(FailureKind.POLICY, "The policy returned null instead of an action map");
        }
        return action;
    }

    private List<ByteBuffer> encode(Object reply) {
        long encodeStart = System.nanoTime();
        try {
            List<ByteBuffer> encoded = codec.encode(reply);
            metrics.encodeSeconds.recordNanos(System.nanoTime() - encodeStart);
            return encoded;
        } catch (EncodeException e) {
            throw new RequestFailure(FailureKind.ENCODE, "The policy's reply cannot be sent: " + ClientText.reason(e));
        }
    }

    /** The text a client gets for a failed request: the reason, or the stack trace of the policy's exception. */
    static String describe(Throwable failure) {
        if (failure instanceof RequestFailure) {
            return failure.getMessage();
        }
        StringWriter out = new StringWriter();
        failure.printStackTrace(new PrintWriter(out));
        return out.toString();
    }
}

package org.webpolicy.transport.protocol;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.webpolicy.policy.Continuation;

/**
 * The one encoder and decoder of requests and replies, for both ends: between {@link Request} and
 * {@link Reply} and the msgpack values that travel (docs/PROTOCOL.md, "The raw form" and "The
 * envelope form"). The bytes are the codec's business; the order of keys here is the wire's, and
 * is that of the Python implementations.
 *
 * <ul>
 *   <li>client: {@link #value(Request)}, then {@link #reply(Object, Request, String)}</li>
 *   <li>server: {@link #request(Object, BooleanSupplier)}, then {@link #value(Reply)}</li>
 * </ul>
 * Stateless and thread-safe.
 */
public final class WireMessages {

    private WireMessages() {
    }

    // ---- the client's side ----

    /**
     * The value a client packs for {@code request}: the observation itself in the raw form, else
     * the envelope with its operation, observation or payload, continuation and id, in that order.
     *
     * @param request the request
     * @return the value to pack
     * @throws IllegalArgumentException when the continuation's actions are not floating-point
     */
    public static Map<String, Object> value(Request request) {
        if (request.form() == WireForm.RAW) {
            return request.observation();
        }
        Map<String, Object> envelope = new LinkedHashMap<>();
        if (request.op() == Request.Op.STEP) {
            envelope.put(Envelope.OP, Envelope.OP_STEP);
            envelope.put(Envelope.OBS, request.observation());
            if (request.continuation() != null) {
                envelope.put(ContinuationFields.RTC, ContinuationFields.request(request.continuation()));
            }
        } else {
            envelope.put(Envelope.OP, Envelope.OP_RESET);
            if (request.payload() != null) {
                envelope.put(Envelope.PAYLOAD, request.payload());
            }
        }
        if (request.id() != null) {
            envelope.put(Envelope.REQUEST_ID, request.id());
        }
        return envelope;
    }

    /**
     * The reply a client received for {@code sent}, checked against it: where the request carried
     * an id, the reply must carry the same; where it carried a continuation, the reply must echo
     * its cursor and generation; a step's reply must hold an action map (a server older than the
     * envelope answers with the bare action), a reset's the acknowledgement. The decoded map loses
     * the id and echo keys it carried.
     *
     * @param decoded the reply's decoded value (a fresh map the caller gives up)
     * @param sent the request it should answer
     * @param peer the server, as the messages name it
     * @return the reply
     * @throws ReplyMismatch when it does not answer {@code sent} or cannot be used
     */
    public static Reply reply(Object decoded, Request sent, String peer) {
        if (sent.form() == WireForm.RAW) {
            Map<String, Object> action = actionMap(decoded);
            return Reply.raw(action, ServerTiming.of(action));
        }
        if (!(decoded instanceof Map<?, ?>)) {
            throw new ReplyMismatch("The reply from " + peer + " is not a map: " + ClientText.excerpt(String.valueOf(decoded)),
                    "reply not a map", true);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> reply = (Map<String, Object>) decoded;
        if (sent.id() != null) {
            Object echoed = reply.remove(Envelope.REQUEST_ID);
            if (!sent.id().equals(echoed)) {
                throw new ReplyMismatch("The reply from " + peer + (echoed == null ? " carries no request id"
                        : " carries request id " + ClientText.excerpt(String.valueOf(echoed))) + " where request " + sent.id()
                        + " was sent; it is not this request's reply, and the connection was dropped",
                        "request id mismatch", true);
            }
        }
        if (sent.op() == Request.Op.RESET) {
            if (!Boolean.TRUE.equals(reply.get(Envelope.RESET_ACK))) {
                throw new ReplyMismatch("The server did not acknowledge the reset; it answered "
                        + ClientText.excerpt(String.valueOf(reply)), "reset not acknowledged", false);
            }
            return Reply.resetAck(sent.id());
        }
        Reply.Echo echo = null;
        if (sent.continuation() != null) {
            String mismatch = ContinuationFields.mismatch(reply.remove(ContinuationFields.RTC), sent.continuation());
            if (mismatch != null) {
                throw new ReplyMismatch("The reply from " + peer + " " + mismatch
                        + ": it does not answer this request, and the connection was dropped", "continuation echo mismatch", true);
            }
            echo = Reply.Echo.of(sent.continuation());
        }
        Map<String, Object> action = reply.containsKey(Envelope.ACTION) ? actionMap(reply.get(Envelope.ACTION)) : reply;
        return Reply.step(action, echo, sent.id());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> actionMap(Object value) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new ReplyMismatch("The server's action is not a map: " + ClientText.excerpt(String.valueOf(value)),
                    "action not a map", false);
        }
        return (Map<String, Object>) map;
    }

    // ---- the server's side ----

    /**
     * The request a server received: a map without {@link Envelope#OP} is a raw observation, one
     * with it an envelope. Checked before anything runs, each problem named for the client.
     *
     * @param decoded the request's decoded value
     * @param takesContinuation asked only when a step carries a continuation: whether the policy
     *     takes one (the handshake said so)
     * @return the request
     * @throws RequestFailure when it is not a request the server can answer
     */
    public static Request request(Object decoded, BooleanSupplier takesContinuation) {
        if (!(decoded instanceof Map<?, ?> request)) {
            throw new RequestFailure("A request must be a msgpack map, got " + typeOf(decoded));
        }
        Object op = request.get(Envelope.OP);
        if (op == null) {
            return Request.raw(asStringMap(request, "observation"));
        }
        Object id = request.get(Envelope.REQUEST_ID);
        if (Envelope.OP_STEP.equals(op)) {
            Object obs = request.get(Envelope.OBS);
            if (!(obs instanceof Map<?, ?> obsMap)) {
                throw new RequestFailure("A step envelope needs an 'obs' map, got " + typeOf(obs));
            }
            Continuation continuation = continuation(request.get(ContinuationFields.RTC), takesContinuation);
            return new Request(WireForm.ENVELOPE, Request.Op.STEP, id, asStringMap(obsMap, "obs"), null, continuation);
        }
        if (Envelope.OP_RESET.equals(op)) {
            Object payload = request.get(Envelope.PAYLOAD);
            if (payload != null && !(payload instanceof Map)) {
                throw new RequestFailure("A reset envelope's 'payload' must be a map, got " + typeOf(payload));
            }
            Map<String, Object> payloadMap = payload == null ? null : asStringMap((Map<?, ?>) payload, "payload");
            return new Request(WireForm.ENVELOPE, Request.Op.RESET, id, null, payloadMap, null);
        }
        String shown = op instanceof String ? "'" + ClientText.quote(op) + "'" : ClientText.quote(op) + " (" + typeOf(op) + ")";
        throw new RequestFailure("Unknown " + Envelope.OP + " " + shown + ": expected 'step' or 'reset' (str)");
    }

    /**
     * The value a server packs for {@code reply}: the action in the raw form (with openpi's
     * timing added when given), else the envelope reply with the continuation's echo and the
     * request's id, in that order.
     *
     * @param reply the reply (not an error: that travels as text)
     * @return the value to pack
     * @throws IllegalArgumentException for an error reply
     */
    public static Map<String, Object> value(Reply reply) {
        if (reply.isError()) {
            throw new IllegalArgumentException("An error reply travels as a text frame, not as a map");
        }
        if (reply.form() == WireForm.RAW) {
            if (reply.timing() == null) {
                return reply.action();
            }
            Map<String, Object> timed = new LinkedHashMap<>(reply.action());
            timed.put(Envelope.SERVER_TIMING, reply.timing().value());
            return timed;
        }
        Map<String, Object> map = new LinkedHashMap<>();
        if (reply.op() == Request.Op.STEP) {
            map.put(Envelope.ACTION, reply.action());
            if (reply.echo() != null) {
                map.put(ContinuationFields.RTC, ContinuationFields.echo(reply.echo()));
            }
        } else {
            map.put(Envelope.RESET_ACK, true);
        }
        if (reply.id() != null) {
            map.put(Envelope.REQUEST_ID, reply.id());
        }
        return map;
    }

    /** The continuation a step envelope carries, or null; refused when the policy takes none. */
    private static Continuation continuation(Object field, BooleanSupplier takesContinuation) {
        if (field == null) {
            return null;
        }
        if (!takesContinuation.getAsBoolean()) {
            throw new RequestFailure("This server's policy takes no continuation (its handshake carried no "
                    + Headers.CONTINUATION + " header): send the step without '" + ContinuationFields.RTC + "'");
        }
        return ContinuationFields.parse(field);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asStringMap(Map<?, ?> map, String what) {
        for (Object key : map.keySet()) {
            if (!(key instanceof String)) {
                throw new RequestFailure("The " + what + " must have str keys; key " + ClientText.quote(key) + " is bin");
            }
        }
        return (Map<String, Object>) map;
    }

    private static String typeOf(Object v) {
        return v == null ? "nothing" : v.getClass().getSimpleName();
    }
}

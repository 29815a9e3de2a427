package org.webpolicy.transport.protocol;

import java.util.Map;
import org.webpolicy.policy.Continuation;

/**
 * One request as it crosses the wire, whichever end holds it: a client builds one and encodes it
 * ({@link WireMessages#value(Request)}), a server decodes one ({@link WireMessages#request}).
 *
 * <p>Immutable in its own fields; the observation and the payload are held by reference, not
 * copied (they carry camera images), so whoever builds a request leaves them alone afterwards.
 *
 * @param form raw (openpi) or envelope (webpolicy)
 * @param op what is asked: a step, or a reset (envelope form only)
 * @param id the request id, or null when it carries none: a client's is a {@link Long}, and a
 *     server echoes whatever value it was sent
 * @param observation a step's observation, null for a reset
 * @param payload a reset's payload, null when it has none (and for a step)
 * @param continuation a step's real-time chunking fields, or null
 */
public record Request(WireForm form, Op op, Object id, Map<String, Object> observation, Map<String, Object> payload,
        Continuation continuation) {

    /** What a request asks of the policy. */
    public enum Op {
        /** An observation in, an action out. */
        STEP,
        /** The policy's reset, acknowledged with {@link Envelope#RESET_ACK}. */
        RESET
    }

    /**
     * Checks that the fields fit together: a raw request is a step without id or continuation, a
     * step has an observation, a reset none and no continuation.
     *
     * @param form raw or envelope
     * @param op a step or a reset
     * @param id the request id, or null
     * @param observation a step's observation, null for a reset
     * @param payload a reset's payload, or null
     * @param continuation a step's continuation, or null
     * @throws IllegalArgumentException when the fields do not fit together
     */
    public Request {
        if (form == null || op == null) {
            throw new IllegalArgumentException("A request needs a form and an op, got " + form + " and " + op);
        }
        if (form == WireForm.RAW && (op != Op.STEP || id != null || continuation != null)) {
            throw new IllegalArgumentException("openpi's raw form carries only an observation: no reset, id or continuation");
        }
        if (op == Op.STEP && (observation == null || payload != null)) {
            throw new IllegalArgumentException("A step carries an observation and no payload");
        }
        if (op == Op.RESET && (observation != null || continuation != null)) {
            throw new IllegalArgumentException("A reset carries no observation and no continuation");
        }
    }

    /**
     * openpi's raw step: the observation, nothing else.
     *
     * @param observation what the robot sees
     * @return the request
     */
    public static Request raw(Map<String, Object> observation) {
        return new Request(WireForm.RAW, Op.STEP, null, observation, null, null);
    }

    /**
     * A step envelope without an id.
     *
     * @param observation what the robot sees
     * @param continuation what the robot will still execute, or null
     * @return the request
     */
    public static Request step(Map<String, Object> observation, Continuation continuation) {
        return new Request(WireForm.ENVELOPE, Op.STEP, null, observation, null, continuation);
    }

    /**
     * A reset envelope without an id; an empty payload travels as none, as the Python client sends it.
     *
     * @param payload what the policy is reset with, or null
     * @return the request
     */
    public static Request reset(Map<String, Object> payload) {
        return new Request(WireForm.ENVELOPE, Op.RESET, null, null, payload == null || payload.isEmpty() ? null : payload, null);
    }

    /**
     * This envelope request carrying {@code id}.
     *
     * @param id the request id
     * @return the numbered request
     * @throws IllegalArgumentException for a raw request, which has no place for an id
     */
    public Request withId(Object id) {
        return new Request(form, op, id, observation, payload, continuation);
    }
}

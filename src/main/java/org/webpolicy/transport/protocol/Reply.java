package org.webpolicy.transport.protocol;

import java.util.Map;
import org.webpolicy.policy.Continuation;

/**
 * One reply as it crosses the wire, whichever end holds it: a server builds one and encodes it
 * ({@link WireMessages#value(Reply)}), a client decodes one and checks it against its request
 * ({@link WireMessages#reply}). An error is not a map but a text frame, after which the server
 * closes the connection with 1011.
 *
 * <p>Immutable in its own fields; the action is held by reference, not copied.
 *
 * @param form the form of the request it answers
 * @param op what it answers: a step or a reset; null for an error
 * @param id the id of the request it answers, or null when that carried none
 * @param action a step's action (in the raw form as the server sent it, {@code server_timing}
 *     included), null for a reset and an error
 * @param timing openpi's timing of a raw-form step, or null (the envelope form carries none)
 * @param echo the continuation's cursor and generation a step echoes, or null
 * @param error the text of an error reply, null otherwise
 */
public record Reply(WireForm form, Request.Op op, Object id, Map<String, Object> action, ServerTiming timing,
        Echo echo, String error) {

    /**
     * What a step reply carries back of the request's continuation (docs/RTC_WIRE.md).
     *
     * @param cursor the count of actions the robot had executed
     * @param generation the chunk's generation
     */
    public record Echo(long cursor, long generation) {

        /**
         * The echo of what {@code continuation} says.
         *
         * @param continuation the continuation a request carried
         * @return its echo
         */
        public static Echo of(Continuation continuation) {
            return new Echo(continuation.cursor(), continuation.generation());
        }
    }

    /**
     * The reply to a raw step.
     *
     * @param action the action
     * @param timing openpi's timing, or null when the server adds none
     * @return the reply
     */
    public static Reply raw(Map<String, Object> action, ServerTiming timing) {
        return new Reply(WireForm.RAW, Request.Op.STEP, null, action, timing, null, null);
    }

    /**
     * The reply to a step envelope.
     *
     * @param action the action
     * @param echo the continuation's echo, or null when the request carried none
     * @param id the request's id, or null
     * @return the reply
     */
    public static Reply step(Map<String, Object> action, Echo echo, Object id) {
        return new Reply(WireForm.ENVELOPE, Request.Op.STEP, id, action, null, echo, null);
    }

    /**
     * The acknowledgement of a reset.
     *
     * @param id the request's id, or null
     * @return the reply
     */
    public static Reply resetAck(Object id) {
        return new Reply(WireForm.ENVELOPE, Request.Op.RESET, id, null, null, null, null);
    }

    /**
     * An error reply: the text a server sends before closing with 1011.
     *
     * @param text the reason, or a traceback
     * @return the reply
     */
    public static Reply error(String text) {
        return new Reply(null, null, null, null, null, null, text);
    }

    /**
     * True for an error reply.
     *
     * @return whether this reply is an error text
     */
    public boolean isError() {
        return error != null;
    }
}

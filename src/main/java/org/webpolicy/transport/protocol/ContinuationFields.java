package org.webpolicy.transport.protocol;

import java.util.LinkedHashMap;
import java.util.Map;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Continuation;

/**
 * The real-time-chunking extension of the step envelope (docs/RTC_WIRE.md), both ways: the
 * {@value #RTC} map a client adds to a step when the server announced
 * {@link Headers#CONTINUATION}{@code : }{@value Headers#CONTINUATION_VERSION} in its handshake, what the server makes of it, and
 * the echo the reply carries. Nothing here is sent to a server that did not announce it, so
 * Python peers see exactly the bytes they always did.
 */
public final class ContinuationFields {

    /** The key of the extension's map in a step envelope and in its reply. */
    public static final String RTC = "rtc";
    /** The key of the delay: actions the robot executes while the server computes the next chunk. */
    public static final String DELAY = "delay";
    /** The key of the actions the robot has yet to execute, float32 (H, A). */
    public static final String CONTINUATION = "continuation";
    /** The key of the count of actions executed so far; the reply echoes it. */
    public static final String CURSOR = "cursor";
    /** The key of when the observation was captured, in nanoseconds of the robot's clock. */
    public static final String CAPTURE_NS = "capture_ns";
    /** The key of the chunk's generation, which the reply echoes with the cursor. */
    public static final String GENERATION = "generation";

    private ContinuationFields() {
    }

    /**
     * The {@value #RTC} map of a step request. The actions travel as float32 (little-endian
     * {@code <f4}), converted from any other floating dtype; float32 keeps a joint angle to
     * 1e-7 of its value, finer than any actuator resolves.
     *
     * @param continuation what the robot will still execute
     * @return the map, ready to encode
     * @throws IllegalArgumentException when the actions are not floating-point numbers
     */
    public static Map<String, Object> request(Continuation continuation) {
        NdArray actions = continuation.actions();
        if (!actions.dtype().isFloating()) {
            throw new IllegalArgumentException("A continuation's actions must be floating-point (they travel as float32);"
                    + " got dtype " + actions.dtype());
        }
        NdArray wire = actions.dtype().equals(DType.FLOAT32) ? actions
                : NdArray.ofFloat32(actions.toFloatArray(), actions.shape().dim(0), actions.shape().dim(1));
        Map<String, Object> rtc = new LinkedHashMap<>();
        rtc.put(DELAY, (long) continuation.delay());
        rtc.put(CONTINUATION, wire);
        rtc.put(CURSOR, continuation.cursor());
        rtc.put(CAPTURE_NS, continuation.captureNanos());
        rtc.put(GENERATION, continuation.generation());
        return rtc;
    }

    /**
     * The {@value #RTC} map of a step reply: what tells the client which request it answers.
     *
     * @param echo what the request's continuation said
     * @return the map, ready to encode
     */
    public static Map<String, Object> echo(Reply.Echo echo) {
        Map<String, Object> rtc = new LinkedHashMap<>();
        rtc.put(CURSOR, echo.cursor());
        rtc.put(GENERATION, echo.generation());
        return rtc;
    }

    /**
     * The continuation a step request carries, for the server.
     *
     * @param field the value under {@value #RTC}
     * @return the continuation
     * @throws RequestFailure naming the field when the map is malformed
     */
    public static Continuation parse(Object field) {
        if (!(field instanceof Map<?, ?> rtc)) {
            throw new RequestFailure("The step's '" + RTC + "' field must be a map, got " + typeOf(field));
        }
        Object actions = rtc.get(CONTINUATION);
        if (!(actions instanceof NdArray array)) {
            throw new RequestFailure("The step's " + RTC + "." + CONTINUATION + " must be an ndarray of float32 (H, A), got "
                    + typeOf(actions));
        }
        if (!array.dtype().equals(DType.FLOAT32)) {
            throw new RequestFailure("The step's " + RTC + "." + CONTINUATION + " must have dtype <f4 (float32), got "
                    + array.dtype());
        }
        if (array.rank() != 2) {
            throw new RequestFailure("The step's " + RTC + "." + CONTINUATION + " must have shape (H, A), got "
                    + array.shape());
        }
        long horizon = array.shape().dim(0);
        long delay = integer(rtc, DELAY);
        if (delay < 0 || delay > horizon) {
            throw new RequestFailure("The step's " + RTC + "." + DELAY + " must be within 0.." + horizon
                    + " (the continuation's H, its number of actions), got " + delay);
        }
        long cursor = integer(rtc, CURSOR);
        if (cursor < 0) {
            throw new RequestFailure("The step's " + RTC + "." + CURSOR + " counts executed actions and cannot be negative,"
                    + " got " + cursor);
        }
        return new Continuation((int) delay, array, cursor, integer(rtc, CAPTURE_NS), integer(rtc, GENERATION));
    }

    /**
     * Checks that a reply's {@value #RTC} map answers {@code sent}.
     *
     * @param echoed the reply's {@value #RTC} value, or null when it has none
     * @param sent the continuation the request carried
     * @return null when it does, otherwise what is wrong
     */
    public static String mismatch(Object echoed, Continuation sent) {
        if (!(echoed instanceof Map<?, ?> rtc)) {
            return echoed == null ? "carries no '" + RTC + "' echo" : "carries an '" + RTC + "' echo that is not a map";
        }
        Object cursor = rtc.get(CURSOR);
        Object generation = rtc.get(GENERATION);
        if (!Long.valueOf(sent.cursor()).equals(cursor) || !Long.valueOf(sent.generation()).equals(generation)) {
            return "answers cursor " + ClientText.excerpt(String.valueOf(cursor)) + " of generation "
                    + ClientText.excerpt(String.valueOf(generation)) + " where cursor " + sent.cursor() + " of generation "
                    + sent.generation() + " was sent";
        }
        return null;
    }

    private static long integer(Map<?, ?> rtc, String key) {
        Object value = rtc.get(key);
        if (!(value instanceof Long n)) {
            throw new RequestFailure("The step's " + RTC + "." + key + " must be an integer within the int64 range, got "
                    + (value == null ? "nothing" : typeOf(value) + " " + ClientText.quote(value)));
        }
        return n;
    }

    private static String typeOf(Object v) {
        return v == null ? "nothing" : v instanceof NdArray a ? "an ndarray of " + a.dtype() + " " + a.shape()
                : v.getClass().getSimpleName();
    }
}

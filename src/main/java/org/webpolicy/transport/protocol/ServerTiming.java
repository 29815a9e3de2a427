package org.webpolicy.transport.protocol;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The timings openpi's server adds to every raw-form action under {@link Envelope#SERVER_TIMING}.
 *
 * @param inferMs the policy's time for this request, in milliseconds
 * @param prevTotalMs the whole previous request of the connection (receive to send, and the wait
 *     for this one), in milliseconds; null for a connection's first request
 */
public record ServerTiming(double inferMs, Double prevTotalMs) {

    /** The key of {@link #inferMs} in the timing map. */
    public static final String INFER_MS = "infer_ms";
    /** The key of {@link #prevTotalMs} in the timing map. */
    public static final String PREV_TOTAL_MS = "prev_total_ms";

    /**
     * The timing map as openpi writes it ({@code prev_total_ms} only when known).
     *
     * @return a new map
     */
    public Map<String, Object> value() {
        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put(INFER_MS, inferMs);
        if (prevTotalMs != null) {
            timing.put(PREV_TOTAL_MS, prevTotalMs);
        }
        return timing;
    }

    /**
     * The timing an action map carries, or null when it carries none that reads as openpi's.
     *
     * @param action a raw-form action map
     * @return the timing, or null
     */
    public static ServerTiming of(Map<?, ?> action) {
        if (action.get(Envelope.SERVER_TIMING) instanceof Map<?, ?> timing && timing.get(INFER_MS) instanceof Double infer) {
            return new ServerTiming(infer, timing.get(PREV_TOTAL_MS) instanceof Double prev ? prev : null);
        }
        return null;
    }
}

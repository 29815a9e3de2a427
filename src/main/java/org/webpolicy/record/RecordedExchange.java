package org.webpolicy.record;

import java.util.Map;

/**
 * One exchange read back from a recording.
 *
 * @param sequence its number in the file (1, 2, ...)
 * @param connection the recorded connection it was on
 * @param index its position on that connection (0, 1, ...)
 * @param form "raw" (openpi), "envelope" (webpolicy) or "unknown" (a request that did not decode)
 * @param op "step" or "reset" (null when unknown)
 * @param request the request message, byte for byte
 * @param reply the reply message, byte for byte; null when the request failed
 * @param failure the error text the robot got, or null
 * @param requestTimeNs when the request was captured, ns since the epoch
 * @param replyTimeNs when the reply (or the failure) came, ns since the epoch
 * @param serverTiming the reply's {@code server_timing} (ms), empty when it had none
 * @param requestSize the request's length in bytes (kept by {@link #withoutRequest()})
 * @param sent false for a request that failed before anything of it went on the wire: its
 *     {@code request} is what was known of it (the observation as the codec encodes it, or
 *     nothing), and no peer ever saw it
 */
public record RecordedExchange(long sequence, long connection, long index, String form, String op, byte[] request,
        byte[] reply, String failure, long requestTimeNs, long replyTimeNs, Map<String, Double> serverTiming,
        long requestSize, boolean sent) {

    /**
     * An exchange that went on the wire.
     *
     * @param sequence its number in the file
     * @param connection the recorded connection it was on
     * @param index its position on that connection
     * @param form "raw", "envelope" or "unknown"
     * @param op "step" or "reset"
     * @param request the request message
     * @param reply the reply message, or null
     * @param failure the error text, or null
     * @param requestTimeNs when the request was captured, ns since the epoch
     * @param replyTimeNs when the reply came, ns since the epoch
     * @param serverTiming the reply's server timing
     * @param requestSize the request's length in bytes
     */
    public RecordedExchange(long sequence, long connection, long index, String form, String op, byte[] request,
            byte[] reply, String failure, long requestTimeNs, long replyTimeNs, Map<String, Double> serverTiming,
            long requestSize) {
        this(sequence, connection, index, form, op, request, reply, failure, requestTimeNs, replyTimeNs, serverTiming,
                requestSize, true);
    }

    /**
     * An exchange whose request size is its request's length.
     *
     * @param sequence its number in the file
     * @param connection the recorded connection it was on
     * @param index its position on that connection
     * @param form "raw", "envelope" or "unknown"
     * @param op "step" or "reset"
     * @param request the request message
     * @param reply the reply message, or null
     * @param failure the error text, or null
     * @param requestTimeNs when the request was captured, ns since the epoch
     * @param replyTimeNs when the reply came, ns since the epoch
     * @param serverTiming the reply's server timing
     */
    public RecordedExchange(long sequence, long connection, long index, String form, String op, byte[] request,
            byte[] reply, String failure, long requestTimeNs, long replyTimeNs, Map<String, Double> serverTiming) {
        this(sequence, connection, index, form, op, request, reply, failure, requestTimeNs, replyTimeNs, serverTiming,
                request.length, true);
    }

    /**
     * This exchange without its request bytes (an index that keeps only replies in memory).
     *
     * @return a copy whose request is empty; its request size is kept
     */
    public RecordedExchange withoutRequest() {
        return new RecordedExchange(sequence, connection, index, form, op, new byte[0], reply, failure, requestTimeNs,
                replyTimeNs, serverTiming, requestSize, sent);
    }

    /**
     * Reply time minus request time.
     *
     * @return milliseconds
     */
    public double latencyMs() {
        return (replyTimeNs - requestTimeNs) / 1e6;
    }
}

package org.webpolicy.transport.metrics;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.webpolicy.transport.protocol.FailureKind;

/**
 * What a server counts: requests, failures by kind, bytes in and out, and how long requests spend
 * queued for a worker, waiting for a batch, in the policy and in the codec, with the batch sizes;
 * and the steps that carried a continuation (real-time chunking) with the delay each carried.
 * Recording is a few uncontended {@link LongAdder} adds on the request path, nothing allocated;
 * the Prometheus text for {@code GET /metrics} is built only when asked for.
 */
public final class ServerMetrics {

    /** Requests received, steps and resets alike. */
    public final LongAdder requests = new LongAdder();
    /** Replies queued for sending. */
    public final LongAdder replies = new LongAdder();
    /** Request message bytes received. */
    public final LongAdder bytesIn = new LongAdder();
    /** Reply message bytes queued. */
    public final LongAdder bytesOut = new LongAdder();
    /** Calls into the policy: one per batch, however many observations it held. */
    public final LongAdder batches = new LongAdder();
    /** Failed batches split in two to find the observation that fails (see ObservationBatcher). */
    public final LongAdder batchSplits = new LongAdder();
    private final Map<FailureKind, LongAdder> failures = new EnumMap<>(FailureKind.class);
    /** From a request's arrival to its reply being queued. */
    public final Histogram requestSeconds = new Histogram(Histogram.SECONDS);
    /** Time a request waited for a worker thread. */
    public final Histogram queueSeconds = new Histogram(Histogram.SECONDS);
    /** From a step reaching the batcher to its batch starting. */
    public final Histogram batchWaitSeconds = new Histogram(Histogram.SECONDS);
    /** Time in the policy's step or stepBatch, per call. */
    public final Histogram policySeconds = new Histogram(Histogram.SECONDS);
    /** Time decoding a request's msgpack. */
    public final Histogram decodeSeconds = new Histogram(Histogram.SECONDS);
    /** Time encoding a reply's msgpack. */
    public final Histogram encodeSeconds = new Histogram(Histogram.SECONDS);
    /** Observations per policy call. */
    public final Histogram batchSizes = new Histogram(Histogram.SIZES);
    /** Steps that carried a continuation (real-time chunking). */
    public final LongAdder continuedSteps = new LongAdder();
    /** The delay (in actions) each continuation carried: what the robot expects to execute meanwhile. */
    final Histogram continuationDelays = new Histogram(Histogram.SIZES);

    /** Starts every count at zero, with a counter for each failure kind so that /metrics lists them all. */
    public ServerMetrics() {
        for (FailureKind kind : FailureKind.values()) {
            failures.put(kind, new LongAdder());
        }
    }

    /**
     * A request arrived with {@code bytes} of message.
     *
     * @param bytes the request message's size
     */
    public void received(long bytes) {
        requests.increment();
        bytesIn.add(bytes);
    }

    /**
     * A reply of {@code bytes} was queued, {@code nanos} after its request arrived.
     *
     * @param bytes the reply message's size
     * @param nanos time since the request arrived
     */
    public void answered(long bytes, long nanos) {
        replies.increment();
        bytesOut.add(bytes);
        requestSeconds.recordNanos(nanos);
    }

    /**
     * A request failed, or its connection was cut past a bound.
     *
     * @param kind why it failed
     */
    public void failed(FailureKind kind) {
        failures.get(kind).increment();
    }

    /**
     * How many requests failed, or connections were cut, for this reason so far.
     *
     * @param kind the reason
     * @return the count
     */
    public long failures(FailureKind kind) {
        return failures.get(kind).sum();
    }

    /**
     * A step carried a continuation of {@code delay} actions.
     *
     * @param delay the continuation's delay, in actions
     */
    public void continued(int delay) {
        continuedSteps.increment();
        continuationDelays.recordCount(delay);
    }

    /**
     * A batch of {@code size} ran in {@code nanos} of policy time.
     *
     * @param size observations in the batch
     * @param nanos time in the policy
     */
    public void batchRan(int size, long nanos) {
        batches.increment();
        batchSizes.recordCount(size);
        policySeconds.recordNanos(nanos);
    }

    /**
     * The metrics in the Prometheus text exposition format (version 0.0.4).
     *
     * @param connections open WebSocket connections now
     * @param draining whether the server is draining (health checks answer 503)
     * @return the text a {@code GET /metrics} answers with
     */
    public String prometheusText(int connections, boolean draining) {
        StringBuilder out = new StringBuilder(8192);
        counter(out, "webpolicy_requests_total", "Requests received (steps and resets).", requests.sum());
        counter(out, "webpolicy_replies_total", "Replies sent.", replies.sum());
        out.append("# HELP webpolicy_request_errors_total Requests failed, and connections cut past a bound, by kind.\n");
        out.append("# TYPE webpolicy_request_errors_total counter\n");
        for (FailureKind kind : FailureKind.values()) {
            out.append("webpolicy_request_errors_total{kind=\"").append(kind.label).append("\"} ")
                    .append(failures(kind)).append('\n');
        }
        counter(out, "webpolicy_received_bytes_total", "Request message bytes received.", bytesIn.sum());
        counter(out, "webpolicy_sent_bytes_total", "Reply message bytes sent.", bytesOut.sum());
        counter(out, "webpolicy_policy_calls_total", "Calls into the policy's step or stepBatch.", batches.sum());
        counter(out, "webpolicy_batch_splits_total", "Failed batches split in two and called again, to fail only the"
                + " observation that fails alone.", batchSplits.sum());
        gauge(out, "webpolicy_connections", "Open WebSocket connections.", connections);
        gauge(out, "webpolicy_draining", "1 while the server drains before closing.", draining ? 1 : 0);
        requestSeconds.appendPrometheus(out, "webpolicy_request_seconds",
                "From a request's arrival to its reply being queued.", 1e-9);
        queueSeconds.appendPrometheus(out, "webpolicy_queue_wait_seconds",
                "From a request's arrival to a worker taking it.", 1e-9);
        batchWaitSeconds.appendPrometheus(out, "webpolicy_batch_wait_seconds",
                "From an observation's arrival at the batcher to its batch starting.", 1e-9);
        policySeconds.appendPrometheus(out, "webpolicy_policy_seconds", "Time in each policy call (step or stepBatch).",
                1e-9);
        decodeSeconds.appendPrometheus(out, "webpolicy_decode_seconds", "Decoding a request.", 1e-9);
        encodeSeconds.appendPrometheus(out, "webpolicy_encode_seconds", "Encoding a reply.", 1e-9);
        batchSizes.appendPrometheus(out, "webpolicy_batch_size", "Observations per policy call.", 1);
        counter(out, "webpolicy_continued_steps_total", "Steps that carried a continuation (real-time chunking).",
                continuedSteps.sum());
        continuationDelays.appendPrometheus(out, "webpolicy_continuation_delay_actions",
                "The inference delay each continuation carried, in actions.", 1);
        return out.toString();
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append(' ').append(value).append('\n');
    }
}

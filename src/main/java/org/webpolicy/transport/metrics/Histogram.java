package org.webpolicy.transport.metrics;

import java.util.concurrent.atomic.LongAdder;

/**
 * A Prometheus histogram with fixed bucket bounds: one {@link LongAdder} per bucket and one for
 * the sum, so that recording is a short scan and two uncontended adds on the request path, and
 * nothing is allocated. Reading (for {@code GET /metrics}) adds the buckets up.
 */
public final class Histogram {

    /** Seconds: 50 us to 10 s, about three bounds a decade. */
    static final double[] SECONDS = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
        0.25, 0.5, 1, 2.5, 5, 10};
    /** Batch sizes: powers of two up to 256. */
    static final double[] SIZES = {1, 2, 4, 8, 16, 32, 64, 128, 256};

    private final double[] bounds;
    private final long[] nanoBounds;
    private final LongAdder[] counts;
    private final LongAdder sum = new LongAdder();

    Histogram(double[] bounds) {
        this.bounds = bounds.clone();
        this.nanoBounds = new long[bounds.length];
        for (int i = 0; i < bounds.length; i++) {
            nanoBounds[i] = Math.round(bounds[i] * 1e9);
        }
        this.counts = new LongAdder[bounds.length + 1];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /**
     * Records a duration in nanoseconds against bounds in seconds.
     *
     * @param nanos the duration
     */
    public void recordNanos(long nanos) {
        int i = 0;
        while (i < nanoBounds.length && nanos > nanoBounds[i]) {
            i++;
        }
        counts[i].increment();
        sum.add(nanos);
    }

    /** Records a count (a batch size) against bounds in the same unit. */
    void recordCount(long value) {
        int i = 0;
        while (i < bounds.length && value > bounds[i]) {
            i++;
        }
        counts[i].increment();
        sum.add(value);
    }

    /**
     * How many values were recorded, summed over the buckets.
     *
     * @return the count
     */
    public long count() {
        long n = 0;
        for (LongAdder c : counts) {
            n += c.sum();
        }
        return n;
    }

    /**
     * The sum recorded: nanoseconds for durations, the plain sum for counts.
     *
     * @return the sum
     */
    public long sum() {
        return sum.sum();
    }

    /**
     * Appends the histogram in Prometheus text format.
     *
     * @param sumScale what the raw sum is multiplied by (1e-9 for nanoseconds to seconds)
     */
    void appendPrometheus(StringBuilder out, String name, String help, double sumScale) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" histogram\n");
        long cumulative = 0;
        for (int i = 0; i < bounds.length; i++) {
            cumulative += counts[i].sum();
            out.append(name).append("_bucket{le=\"").append(number(bounds[i])).append("\"} ").append(cumulative).append('\n');
        }
        cumulative += counts[bounds.length].sum();
        out.append(name).append("_bucket{le=\"+Inf\"} ").append(cumulative).append('\n');
        out.append(name).append("_sum ").append(number(sum.sum() * sumScale)).append('\n');
        out.append(name).append("_count ").append(cumulative).append('\n');
    }

    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }
}

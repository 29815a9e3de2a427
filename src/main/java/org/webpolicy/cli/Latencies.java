package org.webpolicy.cli;

import java.time.Duration;
import java.util.Arrays;
import org.webpolicy.runtime.LatencySummary;

/**
 * Round-trip times collected by the client and bench commands. Percentiles are the library's
 * ({@link LatencySummary}, nearest rank), so the command line and the control loop report alike.
 */
final class Latencies {

    private long[] nanos = new long[1024];
    private int count;

    void add(long elapsedNanos) {
        if (count == nanos.length) {
            nanos = Arrays.copyOf(nanos, count * 2);
        }
        nanos[count++] = elapsedNanos;
    }

    int count() {
        return count;
    }

    /** The mean in ms; 0 with no samples. */
    double meanMs() {
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += nanos[i];
        }
        return count == 0 ? 0 : sum / count / 1e6;
    }

    /** Median, 99th percentile and maximum; all zero with no samples. */
    LatencySummary summary() {
        return LatencySummary.of(0, nanos, count, 0);
    }

    static double millis(Duration d) {
        return d.toNanos() / 1e6;
    }
}

package org.webpolicy.runtime;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * The action latencies of one episode: how long {@link Agent#getAction} took per step.
 * Percentiles are nearest-rank (the smallest latency at or above that share of steps). With no
 * steps every duration is zero.
 *
 * @param episode the episode, from 0
 * @param steps the steps measured
 * @param p50 the median latency
 * @param p99 the 99th percentile
 * @param max the slowest step
 * @param missedDeadlines steps that ended after the next tick's deadline
 */
public record LatencySummary(int episode, int steps, Duration p50, Duration p99, Duration max, long missedDeadlines) {

    /**
     * Summarises the first {@code count} of {@code latencyNanos} (not modified).
     *
     * @param episode the episode, from 0
     * @param latencyNanos the latencies, in nanoseconds; only the first {@code count} are read
     * @param count how many latencies there are
     * @param missedDeadlines the episode's missed deadlines, passed through
     * @return the summary; all durations zero when {@code count} is 0
     */
    public static LatencySummary of(int episode, long[] latencyNanos, int count, long missedDeadlines) {
        if (count == 0) {
            return new LatencySummary(episode, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO, missedDeadlines);
        }
        long[] sorted = Arrays.copyOf(latencyNanos, count);
        Arrays.sort(sorted);
        return new LatencySummary(episode, count, Duration.ofNanos(percentile(sorted, 50)),
                Duration.ofNanos(percentile(sorted, 99)), Duration.ofNanos(sorted[count - 1]), missedDeadlines);
    }

    private static long percentile(long[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** For example {@code episode 0: 300 steps, getAction p50 0.041 ms, p99 2.310 ms, max 3.002 ms, 0 missed deadlines}. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "episode %d: %d steps, getAction p50 %.3f ms, p99 %.3f ms, max %.3f ms, %d missed deadlines",
                episode, steps, millis(p50), millis(p99), millis(max), missedDeadlines);
    }

    private static double millis(Duration d) {
        return d.toNanos() / 1e6;
    }
}

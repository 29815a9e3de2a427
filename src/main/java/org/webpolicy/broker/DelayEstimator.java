package org.webpolicy.broker;

/**
 * A robust estimate from the last {@code window} samples: their maximum, or, with
 * {@code sigmas > 0}, their mean plus {@code sigmas} standard deviations (whichever the user
 * chose). Conservative on purpose: an estimate too small starves the robot or freezes too few
 * actions; one too large only asks a little early. Not thread-safe (used under the scheduler's lock).
 */
final class DelayEstimator {

    private final long[] samples;
    private final double sigmas;
    private int count;
    private int next;

    DelayEstimator(int window, double sigmas) {
        this.samples = new long[window];
        this.sigmas = sigmas;
    }

    void add(long sample) {
        samples[next] = sample;
        next = (next + 1) % samples.length;
        count = Math.min(count + 1, samples.length);
    }

    /** How many samples the estimate is over (at most the window). */
    int count() {
        return count;
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** The estimate, rounded up; 0 when empty. */
    long estimate() {
        if (count == 0) {
            return 0;
        }
        if (sigmas <= 0) {
            long max = Long.MIN_VALUE;
            for (int i = 0; i < count; i++) {
                max = Math.max(max, samples[i]);
            }
            return max;
        }
        double mean = 0;
        for (int i = 0; i < count; i++) {
            mean += samples[i];
        }
        mean /= count;
        double var = 0;
        for (int i = 0; i < count; i++) {
            var += (samples[i] - mean) * (samples[i] - mean);
        }
        double sd = count > 1 ? Math.sqrt(var / (count - 1)) : 0;
        return (long) Math.ceil(mean + sigmas * sd);
    }

    /** The latest sample; 0 when empty. */
    long last() {
        return count == 0 ? 0 : samples[(next - 1 + samples.length) % samples.length];
    }
}

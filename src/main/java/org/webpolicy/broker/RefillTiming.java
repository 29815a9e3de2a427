package org.webpolicy.broker;

import org.webpolicy.policy.Continuation;

/**
 * The scheduler's refill decision: when to ask for the next chunk (the actions left at which a
 * request goes out) and the delay to send with it, from the turnarounds and measured delays of
 * recent replies. Not thread-safe: used under the scheduler's lock.
 */
final class RefillTiming {

    private final DelayEstimator delays;
    private final DelayEstimator turnarounds;
    private final long periodNanos;
    private final long leadActions;
    private final int warmSamples;
    private long coldTurnaroundNanos = -1;

    RefillTiming(SchedulerOptions o) {
        this.delays = new DelayEstimator(o.window(), o.sigmas());
        this.turnarounds = new DelayEstimator(o.window(), o.sigmas());
        this.periodNanos = o.periodNanos();
        this.leadActions = o.leadActions();
        this.warmSamples = o.warmSamples();
    }

    /** A reply came {@code nanos} after its request left; the first (cold) one is kept apart. */
    void turnaround(long nanos) {
        if (coldTurnaroundNanos < 0) {
            coldTurnaroundNanos = nanos;
        } else {
            turnarounds.add(nanos);
        }
    }

    /** A reply was used {@code actions} actions after its request left. */
    void delayMeasured(long actions) {
        delays.add(actions);
    }

    /** Actions expected to execute while a request is out: robust over recent replies, at most half the chunk. */
    long delayEstimate(ChunkPlan plan) {
        long estimate;
        if (!delays.isEmpty()) {
            estimate = delays.estimate();
        } else {
            // No reply measured yet: the turnaround in ticks, plus the tick a reply waits to be used.
            estimate = ceilDiv(turnaroundEstimate(), periodNanos) + 1;
        }
        int half = plan == null ? 0 : plan.length() / 2;
        return Math.min(estimate, half);
    }

    /**
     * Request when this many actions or fewer are left. Until {@code warmSamples} warm
     * turnarounds are known, at half the plan at the latest: the cold call and one lucky fast
     * call say little about the next (jitter).
     */
    long refillAt(ChunkPlan plan) {
        long at = Math.max(leadActions, ceilDiv(turnaroundEstimate(), periodNanos) + 1);
        if (plan == null) {
            return at;
        }
        long usable = plan.end() - plan.start();
        return Math.min(turnarounds.count() < warmSamples ? Math.max(at, usable / 2) : at, usable);
    }

    /**
     * The continuation of a request whose row 0 is action {@code c0}: the plan's rows from there
     * and the delay to expect, at most the rows the plan still has; null before any plan.
     */
    Continuation continuation(Playback playback, long c0, long stepNanos, long generation) {
        ChunkPlan plan = playback.plan();
        if (plan == null) {
            return null;
        }
        long available = Math.max(0, plan.end() - c0);
        int delay = (int) Math.min(delayEstimate(plan), Math.min(available, plan.length()));
        return new Continuation(delay, playback.continuationFrom(c0), c0, stepNanos, generation);
    }

    private long turnaroundEstimate() {
        return turnarounds.isEmpty() ? Math.max(0, coldTurnaroundNanos) : turnarounds.estimate();
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

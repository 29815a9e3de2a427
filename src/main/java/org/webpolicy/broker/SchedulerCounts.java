package org.webpolicy.broker;

import java.time.Duration;
import org.webpolicy.runtime.MotionMeter;

/**
 * The scheduler's running counts and delay figures, turned into a {@link ChunkSchedulerStats}
 * when asked. Not thread-safe: updated and read under the scheduler's lock.
 */
final class SchedulerCounts {

    long chunksRequested;
    long repliesUsed;
    long lateReplies;
    long unusableReplies;
    long failedRequests;
    long waits;
    long holds;
    long holdEpisodes;
    long faults;
    private long lastDelayMeasured;
    private long lastDelayUsed;
    private long maxDelayShortfall;
    private long minPlaybackMargin = -1;
    private long maxDispatchAgeNanos;

    /** A request's policy call began {@code nanos} after its step's observation. */
    void dispatched(long nanos) {
        maxDispatchAgeNanos = Math.max(maxDispatchAgeNanos, nanos);
    }

    /** A reply sent with delay {@code used} was measured at {@code measured} actions. */
    void delay(long measured, long used) {
        lastDelayMeasured = measured;
        lastDelayUsed = used;
        maxDelayShortfall = Math.max(maxDelayShortfall, measured - used);
    }

    /** A reply was switched in with {@code margin} actions left in the old plan (-1: no old plan). */
    void switched(long margin) {
        if (margin >= 0) {
            minPlaybackMargin = minPlaybackMargin < 0 ? margin : Math.min(minPlaybackMargin, margin);
        }
        repliesUsed++;
    }

    ChunkSchedulerStats snapshot(long actions, long refillAt, MotionMeter.Figures motion) {
        return new ChunkSchedulerStats(actions, chunksRequested, repliesUsed, lateReplies, unusableReplies,
                failedRequests, waits, holds, holdEpisodes, faults, lastDelayMeasured, lastDelayUsed, maxDelayShortfall,
                refillAt, minPlaybackMargin, Duration.ofNanos(maxDispatchAgeNanos), motion);
    }
}

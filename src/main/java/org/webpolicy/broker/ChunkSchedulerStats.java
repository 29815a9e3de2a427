package org.webpolicy.broker;

import java.time.Duration;
import java.util.Locale;
import org.webpolicy.runtime.MotionMeter;

/**
 * What a {@link ChunkScheduler} did so far (since it was built; resets keep the counts).
 *
 * @param actions actions executed (at the policy's rate; interpolated sub-steps not counted)
 * @param chunksRequested requests sent to the policy
 * @param repliesUsed replies switched in
 * @param lateReplies replies of an older generation or request, dropped
 * @param unusableReplies replies that arrived after all of their rows were due, dropped with the
 *     queue left as it was
 * @param failedRequests requests whose policy call threw or whose reply was no usable chunk
 * @param waits calls that blocked for a first chunk (one per episode when all goes well)
 * @param holds calls answered with the held last action because the plan had run out
 * @param holdEpisodes separate runs of holds
 * @param faults times the grace ran out ({@link ChunkStarvationException})
 * @param lastDelayMeasured the last reply's delay, in actions consumed while it was out
 * @param lastDelayUsed the delay the scheduler sent with that request (its estimate)
 * @param maxDelayShortfall the largest {@code measured - used} over replies (positive: the
 *     estimate was too small, the policy froze fewer actions than executed)
 * @param refillAt the current refill point: a request goes out with this many actions or fewer left
 * @param minPlaybackMargin the fewest actions left in the old plan when a reply was switched in
 *     (0 when the robot had run out); -1 before the first switch
 * @param maxDispatchAge the longest time from a step's observation to its request's policy call
 * @param motion seam jumps, median in-chunk step and backward events of the executed actions
 */
public record ChunkSchedulerStats(long actions, long chunksRequested, long repliesUsed, long lateReplies,
        long unusableReplies, long failedRequests, long waits, long holds, long holdEpisodes, long faults,
        long lastDelayMeasured, long lastDelayUsed, long maxDelayShortfall, long refillAt, long minPlaybackMargin,
        Duration maxDispatchAge, MotionMeter.Figures motion) {

    /** Two lines for a summary, e.g. a demo's. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "%d actions, %d chunks requested (%d used, %d late, %d unusable, %d failed), %d waits, %d holds in %d"
                        + " runs, %d faults; delay last measured %d / used %d actions (worst shortfall %d), refill at"
                        + " %d left, min margin %d, max observation age at dispatch %.2f ms; %d seams, max jump %.4f ="
                        + " %.2fx the median in-chunk step %.4f, %d backward",
                actions, chunksRequested, repliesUsed, lateReplies, unusableReplies, failedRequests, waits, holds,
                holdEpisodes, faults, lastDelayMeasured, lastDelayUsed, maxDelayShortfall, refillAt, minPlaybackMargin,
                maxDispatchAge.toNanos() / 1e6, motion.seams(), motion.maxSeamJump(), motion.jumpRatio(),
                motion.medianInChunkStep(), motion.backwardEvents());
    }
}

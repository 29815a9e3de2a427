package org.webpolicy.demo;

import java.time.Duration;
import java.util.List;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.broker.ChunkSchedulerStats;
import org.webpolicy.runtime.ChunkQualitySubscriber;
import org.webpolicy.runtime.LatencySummary;

/**
 * What a demo run did.
 *
 * @param episodes episodes run
 * @param steps steps run, over all episodes
 * @param chunksRequested action chunks asked of the policy
 * @param waits steps at which the robot waited for a chunk (with the sync broker: every request)
 * @param missedDeadlines steps that overran their control period
 * @param latency getAction latency over all steps
 * @param perEpisode the same, per episode
 * @param resizeNanosPerStep time in resizeWithPad per step (all three cameras)
 * @param imagePath {@code native (AVX2)}, {@code native (scalar)} or {@code java}
 * @param policyUri where the policy ran
 * @param wallTime how long the episodes took
 * @param imageCodec how images travelled: the codec asked for when the server accepted it, raw otherwise
 * @param chunkQuality seam jumps, backward motion and repeated actions; null when the seams cannot
 *     be found (an external server's replies with the sync or async broker)
 * @param scheduler the chunk scheduler's counters and figures; null with the other brokers
 * @param continuationSent whether the client sends continuations (its server said it takes them)
 * @param cameras each real camera's figures, in feeding order; empty with the drawn frames
 * @param endedEarly why the run stopped before its steps (a camera ended), or null when it ran them all
 */
public record DemoResult(int episodes, long steps, long chunksRequested, long waits, long missedDeadlines,
        LatencySummary latency, List<LatencySummary> perEpisode, long resizeNanosPerStep, String imagePath,
        String policyUri, Duration wallTime, ImageCodec imageCodec, ChunkQualitySubscriber.Summary chunkQuality,
        ChunkSchedulerStats scheduler, boolean continuationSent, List<CameraReport> cameras, String endedEarly) {
}

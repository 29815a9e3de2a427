package org.webpolicy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;

class ChunkQualitySubscriberTest {

    private static StepInfo step(long i, double position, long chunk) {
        Map<String, Object> action = Map.of("actions", NdArray.ofFloat64(new double[] {position, 0.5}, 2),
                "chunk_id", NdArray.ofInt64(new long[] {chunk}, 1).slice(0).reshape());
        return new StepInfo(0, i, Map.of(), action, 0, false, 0);
    }

    @Test
    void measuresTheSeamJumpAgainstTheInChunkStepAndFindsBackwardMotion() {
        ChunkQualitySubscriber q = ChunkQualitySubscriber.byChunkKey("actions", "chunk_id");
        q.onEpisodeStart();
        // Chunk 0 moves forward by 0.1 a step; chunk 1 starts 0.3 behind (stale plan): backward.
        double[] positions = {0.0, 0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3, 0.3, 0.4};
        long[] chunks = {0, 0, 0, 0, 0, 1, 1, 1, 1, 2};
        for (int i = 0; i < positions.length; i++) {
            q.onStep(step(i, positions[i], chunks[i]));
        }
        ChunkQualitySubscriber.Summary s = q.summary();
        assertEquals(2, s.motion().seams());
        assertEquals(0.3, s.motion().maxSeamJump(), 1e-9);
        assertEquals(0.1, s.motion().medianInChunkStep(), 1e-9);
        assertEquals(3.0, s.motion().jumpRatio(), 1e-9);
        assertEquals(1, s.motion().backwardEvents(), "the pull-back to 0.1; the forward seam 0.3 -> 0.4 is not");
        assertEquals(1, s.repeats(), "0.3 twice in chunk 1 is a held action");
    }

    @Test
    void aSmoothTurningPointIsNoBackwardEvent() {
        ChunkQualitySubscriber q = ChunkQualitySubscriber.byChunkKey("actions", "chunk_id");
        q.onEpisodeStart();
        double[] positions = {0.0, 0.1, 0.2, 0.25, 0.2, 0.1};
        long[] chunks = {0, 0, 0, 0, 1, 1};
        for (int i = 0; i < positions.length; i++) {
            q.onStep(step(i, positions[i], chunks[i]));
        }
        assertEquals(0, q.summary().motion().backwardEvents());
    }
}

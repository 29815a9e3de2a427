package org.webpolicy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LatencySummaryTest {

    @Test
    void nearestRankPercentilesOfOneToAHundredMillis() {
        long[] nanos = new long[100];
        for (int i = 0; i < 100; i++) {
            nanos[99 - i] = (i + 1) * 1_000_000L;   // unsorted on purpose
        }
        LatencySummary s = LatencySummary.of(3, nanos, 100, 7);
        assertEquals(new LatencySummary(3, 100, Duration.ofMillis(50), Duration.ofMillis(99), Duration.ofMillis(100), 7), s);
        assertEquals(100_000_000L, nanos[0], "the input is not sorted in place");
        assertEquals("episode 3: 100 steps, getAction p50 50.000 ms, p99 99.000 ms, max 100.000 ms, 7 missed deadlines",
                s.toString());
    }

    @Test
    void anEmptyEpisodeSummarisesToZeros() {
        LatencySummary s = LatencySummary.of(0, new long[0], 0, 0);
        assertEquals(0, s.steps());
        assertEquals(Duration.ZERO, s.max());
    }

    @Test
    void theSubscriberSummarisesEachEpisodeSeparately() {
        List<LatencySummary> handed = new java.util.ArrayList<>();
        LatencySubscriber sub = new LatencySubscriber(handed::add);
        sub.onEpisodeStart();
        for (int i = 0; i < 300; i++) {
            sub.onStep(new StepInfo(0, i, Map.of(), Map.of(), 1_000L * (i + 1), i % 100 == 0, 0));
        }
        sub.onEpisodeEnd();
        sub.onEpisodeStart();
        sub.onStep(new StepInfo(1, 0, Map.of(), Map.of(), 42, false, 0));
        sub.onEpisodeEnd();
        assertEquals(handed, sub.summaries());
        assertEquals(new LatencySummary(0, 300, Duration.ofNanos(150_000), Duration.ofNanos(297_000),
                Duration.ofNanos(300_000), 3), handed.get(0));
        assertEquals(new LatencySummary(1, 1, Duration.ofNanos(42), Duration.ofNanos(42), Duration.ofNanos(42), 0),
                sub.lastSummary().orElseThrow());
        assertTrue(handed.get(1).toString().startsWith("episode 1: 1 steps"));
    }
}

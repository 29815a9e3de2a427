package org.webpolicy.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;

class RefillTimingTest {

    private static final long TICK = 20_000_000L; // 50 Hz

    private static RefillTiming timing(int warmSamples) {
        return new RefillTiming(new SchedulerOptions("actions", TICK, 0, 0, 0, new int[0], 1, 1_000_000_000L,
                10_000_000_000L, 10, 0, warmSamples, () -> 0L));
    }

    private static ChunkPlan plan50() {
        return ChunkPlan.parse(Map.of("actions", NdArray.ofFloat32(new float[50 * 2], 50, 2)), "actions", 0);
    }

    @Test
    void oneLuckyFastTurnaroundDoesNotLiftTheHalfPlanCeiling() {
        // Against a server whose calls jitter (191, then 300 ms), trusting the first fast warm call
        // sent the next request with too few actions left, and the robot held.
        RefillTiming t = timing(3);
        ChunkPlan plan = plan50();
        t.turnaround(400_000_000L); // the cold first call: 20 ticks
        assertEquals(25, t.refillAt(plan), "no warm turnaround yet: half the plan");
        t.turnaround(40_000_000L);
        assertEquals(25, t.refillAt(plan), "one warm turnaround is not enough");
        t.turnaround(40_000_000L);
        assertEquals(25, t.refillAt(plan), "two are not either");
        t.turnaround(40_000_000L);
        assertEquals(3, t.refillAt(plan), "three: the worst of them (2 ticks) + 1");
    }

    @Test
    void withOneWarmSampleTheFirstWarmTurnaroundCounts() {
        RefillTiming t = timing(1);
        ChunkPlan plan = plan50();
        t.turnaround(400_000_000L);
        assertEquals(25, t.refillAt(plan));
        t.turnaround(40_000_000L);
        assertEquals(3, t.refillAt(plan));
    }
}

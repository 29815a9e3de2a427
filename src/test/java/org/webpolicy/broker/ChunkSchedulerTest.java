package org.webpolicy.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Continuation;
import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.RemotePolicyException;
import org.webpolicy.transport.RequestTimeoutException;

/**
 * The scheduler on a fake clock: ticks move the clock by 20 ms (50 Hz), a policy "takes time" by
 * moving it too, and replies arrive when the test lets them, so every figure is exact.
 */
class ChunkSchedulerTest {

    private static final long PERIOD = 20_000_000L;
    private static final Map<String, Object> OBS = Map.of("state", 1.0);

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private ChunkSchedulerBuilder builder(TimelinePolicy policy) {
        return ChunkScheduler.builder(policy, 50).clock(clock::get);
    }

    /** One control tick: the clock moves a period, then the robot asks for its action. */
    private Map<String, Object> tick(ChunkScheduler s) {
        clock.addAndGet(PERIOD);
        return s.step(OBS);
    }

    /** A tick after which any request it sent has been answered (the policy answers at once). */
    private Map<String, Object> settledTick(ChunkScheduler s) throws InterruptedException {
        Map<String, Object> action = tick(s);
        ChunkPolicies.await(() -> !s.awaitingReply());
        return action;
    }

    @Test
    void asksWhenPlaybackReachesTheTurnaroundAndGoesOnWhereConsumptionGot() throws Exception {
        TimelinePolicy policy = new TimelinePolicy(clock, 50_000_000L, 20, true);
        policy.gate = new Semaphore(2);
        // One warm turnaround is trusted here (the default waits for 3, RefillTimingTest), so the
        // second refill already goes out by the measured turnaround.
        try (ChunkScheduler s = builder(policy).lead(Duration.ZERO).warmSamples(1).build()) {
            List<Double> seen = new ArrayList<>();
            for (int k = 0; k < 10; k++) {
                seen.add(TimelinePolicy.first(settledTick(s)));
            }
            // No warm turnaround yet: the first refill goes out at half the plan (10 left, after action 9).
            assertNull(policy.continuations.get(0), "the first request has no chunk to continue");
            assertEquals(9, policy.continuations.get(1).cursor());
            assertEquals(4, policy.continuations.get(1).delay(), "seeded from the cold turnaround: 3 ticks, + the tick a reply waits");
            for (int k = 10; k < 25; k++) {
                seen.add(TimelinePolicy.first(tick(s)));
            }
            // Its reply came before action 10: row 1 of chunk 1 onwards, a plan ending at action 29.
            // The warm turnaround (50 ms, 3 ticks) + 1: the next request goes out with 4 left, after action 24.
            ChunkPolicies.await(() -> policy.calls.get() == 3);
            Continuation c = policy.continuations.get(2);
            assertEquals(24, c.cursor());
            assertEquals(1, c.delay(), "the one measured delay so far");
            float[] rows = c.actions().toFloatArray();
            assertEquals(1115f, rows[0], "row 0 is the action this tick executes");
            assertEquals(1119f, rows[8], "the plan's last row");
            assertEquals(1119f, rows[38], "padded with the last row, never zeros");
            assertEquals(501f, rows[39]);
            for (int k = 25; k < 28; k++) {
                seen.add(TimelinePolicy.first(tick(s)));
            }
            policy.gate.release();
            ChunkPolicies.await(() -> !s.awaitingReply());
            seen.add(TimelinePolicy.first(tick(s)));
            assertEquals(1009.0, seen.get(9));
            assertEquals(1101.0, seen.get(10));
            assertEquals(1118.0, seen.get(27));
            // Actions 25, 26, 27 ran while the request was out: the new chunk is used from its row 4.
            assertEquals(1204.0, seen.get(28));
            ChunkSchedulerStats st = s.stats();
            assertEquals(4, st.lastDelayMeasured());
            assertEquals(1, st.lastDelayUsed());
            assertEquals(3, st.maxDelayShortfall());
            assertEquals(7, st.refillAt(), "the worst recent turnaround, 110 ms (3 ticks out, then 50 ms thinking): 6 ticks, + 1");
            assertEquals(2, st.motion().seams());
            assertEquals(1, st.minPlaybackMargin(), "one old action was left at the second switch");
            assertEquals(1, st.waits());
            assertEquals(0, st.holds());
            policy.gate.release(10);
        } finally {
            policy.gate.release(10);
        }
    }

    @Test
    void aReplyWithNoUsableRowLeavesTheQueueUntouched() throws Exception {
        TimelinePolicy policy = new TimelinePolicy(clock, 50_000_000L, 10, false);
        policy.lengths.put(1, 3);
        policy.gate = new Semaphore(1);
        try (ChunkScheduler s = builder(policy).lead(Duration.ZERO).build()) {
            for (int k = 0; k < 9; k++) {
                tick(s);
            }
            policy.gate.release();
            ChunkPolicies.await(() -> !s.awaitingReply());
            // Sent after action 4 (half the plan), 5 actions ran while it was out; its 3 rows are all
            // past: the old plan goes on.
            assertEquals(1009.0, TimelinePolicy.first(tick(s)));
            assertEquals(1, s.stats().unusableReplies());
            assertEquals(0, s.stats().motion().seams());
            assertTrue(policy.continuations.stream().allMatch(c -> c == null),
                    "a policy that takes no continuation is called with plain step(observation)");
            policy.gate.release(10);
        } finally {
            policy.gate.release(10);
        }
    }

    @Test
    void repliesFromBeforeAResetAreDroppedAndCounted() throws Exception {
        TimelinePolicy policy = new TimelinePolicy(clock, 0, 10, false);
        policy.gate = new Semaphore(1);
        try (ChunkScheduler s = builder(policy).lead(Duration.ZERO).build()) {
            tick(s);
            for (int k = 0; k < 8; k++) {
                tick(s);
            }
            ChunkPolicies.await(() -> policy.calls.get() == 2); // a request is out
            Thread resetter = new Thread(() -> s.reset(Map.of()));
            resetter.start();
            ChunkPolicies.await(() -> s.state() == ChunkScheduler.State.STARTING);
            policy.gate.release(2); // the stale call, then the new episode's first
            resetter.join(10_000);
            assertEquals(1, s.stats().lateReplies());
            policy.gate.release(10);
            assertEquals(1200.0, TimelinePolicy.first(tick(s)), "the new episode starts with the new call's chunk");
        } finally {
            policy.gate.release(10);
        }
    }

    @Test
    void blendsOnlyListedComponentsAndOnlyOverTheOverlap() throws Exception {
        TimelinePolicy policy = new TimelinePolicy(clock, 50_000_000L, 10, false);
        policy.gate = new Semaphore(1);
        try (ChunkScheduler s = builder(policy).lead(Duration.ZERO).blend(2, 0).build()) {
            for (int k = 0; k < 9; k++) {
                tick(s);
            }
            policy.gate.release();
            ChunkPolicies.await(() -> !s.awaitingReply());
            Map<String, Object> seam = tick(s);
            assertEquals((2 * 1009.0 + 1105.0) / 3, TimelinePolicy.first(seam), 1e-3, "weight 1/3 on the new plan");
            assertEquals(501.0, TimelinePolicy.second(seam), "component 1 (a gripper) is not blended");
            assertEquals(1106.0, TimelinePolicy.first(tick(s)), "the old plan ended: no overlap left to blend");
            policy.gate.release(10);
        } finally {
            policy.gate.release(10);
        }
    }

    @Test
    void holdsTheLastActionWhileRequestsFailThenResumes() throws Exception {
        TimelinePolicy policy = new TimelinePolicy(clock, 0, 10, true);
        policy.failures = n -> n >= 1 && n <= 7 ? new PolicyConnectionException("Could not connect to ws://gpu:8000: refused") : null;
        try (ChunkScheduler s = builder(policy).lead(Duration.ZERO).build()) {
            List<Double> seen = new ArrayList<>();
            List<ChunkScheduler.State> states = new ArrayList<>();
            for (int k = 0; k < 14; k++) {
                Map<String, Object> action = settledTick(s);
                seen.add(TimelinePolicy.first(action));
                states.add(s.state());
            }
            // Requests from action 4 on fail at every tick; the plan runs out after action 9.
            assertEquals(List.of(1000.0, 1001.0, 1002.0, 1003.0, 1004.0, 1005.0, 1006.0, 1007.0, 1008.0, 1009.0,
                    1009.0, 1009.0, 1800.0, 1801.0), seen, "held the last action, never a zero, then chunk 8 from its start");
            assertEquals(ChunkScheduler.State.HOLDING, states.get(10));
            assertEquals(ChunkScheduler.State.RUNNING, states.get(13));
            ChunkSchedulerStats st = s.stats();
            assertEquals(2, st.holds());
            assertEquals(1, st.holdEpisodes());
            assertEquals(7, st.failedRequests());
            assertEquals(0, st.faults());
            Continuation whileHolding = policy.continuations.get(7);
            assertEquals(0, whileHolding.delay(), "nothing executes while the robot holds");
            assertEquals(10, whileHolding.cursor());
            for (float v : whileHolding.actions().toFloatArray()) {
                assertTrue(v == 1009f || v == 500f, "every row is the held action, got " + v);
            }
        }
    }

    @Test
    void faultsAfterTheGraceNamingAnUnreachableServer() throws Exception {
        TimelinePolicy policy = new TimelinePolicy(clock, 0, 10, false);
        policy.failures = n -> n >= 1 ? new PolicyConnectionException("Could not connect to ws://gpu:8000: refused") : null;
        try (ChunkScheduler s = builder(policy).lead(Duration.ZERO).grace(Duration.ofMillis(200)).build()) {
            ChunkStarvationException fault = null;
            long heldAt = -1;
            for (int k = 0; k < 40 && fault == null; k++) {
                try {
                    Map<String, Object> action = settledTick(s);
                    assertTrue(TimelinePolicy.first(action) >= 1000, "never a zero or made-up action");
                    if (heldAt < 0 && s.state() == ChunkScheduler.State.HOLDING) {
                        heldAt = clock.get();
                    }
                } catch (ChunkStarvationException e) {
                    fault = e;
                }
            }
            assertTrue(fault != null, "no fault within 40 ticks");
            assertEquals(StarvationCause.SERVER_UNREACHABLE, fault.starvationCause());
            assertTrue(fault.getMessage().contains("unreachable since"), fault.getMessage());
            assertInstanceOf(PolicyConnectionException.class, fault.getCause());
            long faultAfter = clock.get() - heldAt;
            assertTrue(faultAfter > 200_000_000L && faultAfter <= 200_000_000L + PERIOD,
                    "faulted at the first tick past the grace, " + faultAfter / 1e6 + " ms into the hold");
            assertEquals(ChunkScheduler.State.FAULTED, s.state());
            ChunkStarvationException again = assertThrows(ChunkStarvationException.class, () -> tick(s));
            assertSame(fault, again, "a faulted scheduler stays faulted until reset");
            assertEquals(1, s.stats().faults());
        }
    }

    @Test
    void namesAServerErrorATimeoutAndASlowPolicy() throws Exception {
        assertEquals(StarvationCause.SERVER_ERROR, faultWith(n -> new RemotePolicyException("Traceback: model exploded")).starvationCause());
        assertTrue(faultWith(n -> new RemotePolicyException("Traceback: model exploded")).getMessage().contains("model exploded"));
        assertEquals(StarvationCause.REQUEST_TIMED_OUT, faultWith(n -> new RequestTimeoutException(
                "No reply from ws://gpu:8000 within 100 ms; the connection was closed and the next call reconnects",
                Duration.ofMillis(100)))
                .starvationCause());
        assertEquals(StarvationCause.POLICY_FAILED, faultWith(n -> new IllegalStateException("CUDA out of memory")).starvationCause());

        TimelinePolicy slow = new TimelinePolicy(clock, 0, 10, false);
        slow.gate = new Semaphore(1);
        try (ChunkScheduler s = builder(slow).lead(Duration.ZERO).grace(Duration.ofMillis(100)).build()) {
            ChunkStarvationException e = assertThrows(ChunkStarvationException.class, () -> {
                for (int k = 0; k < 40; k++) {
                    tick(s);
                }
            });
            assertEquals(StarvationCause.POLICY_TOO_SLOW, e.starvationCause());
            assertTrue(e.getMessage().contains("slower than the horizon allows"), e.getMessage());
            slow.gate.release(10);
        } finally {
            slow.gate.release(10);
        }
    }

    private ChunkStarvationException faultWith(java.util.function.IntFunction<RuntimeException> failure) throws Exception {
        TimelinePolicy policy = new TimelinePolicy(clock, 0, 10, false);
        policy.failures = n -> n >= 1 ? failure.apply(n) : null;
        try (ChunkScheduler s = builder(policy).lead(Duration.ZERO).grace(Duration.ofMillis(100)).build()) {
            for (int k = 0; k < 40; k++) {
                try {
                    settledTick(s);
                } catch (ChunkStarvationException e) {
                    return e;
                }
            }
        }
        throw new AssertionError("no fault within 40 ticks");
    }

    @Test
    void interpolatesSubStepsAndMovesTheCursorOncePerAction() throws Exception {
        TimelinePolicy policy = new TimelinePolicy(clock, 0, 10, false);
        try (ChunkScheduler s = builder(policy).lead(Duration.ZERO).interpolation(2).build()) {
            List<Double> seen = new ArrayList<>();
            for (int k = 0; k < 6; k++) {
                seen.add(TimelinePolicy.first(settledTick(s)));
            }
            assertEquals(List.of(1000.0, 1000.0, 1000.5, 1001.0, 1001.5, 1002.0), seen);
            assertEquals(3, s.stats().actions());
        }
    }

    @Test
    void itsWorkerIsADaemon() throws Exception {
        TimelinePolicy policy = new TimelinePolicy(clock, 0, 10, false);
        try (ChunkScheduler s = builder(policy).build()) {
            settledTick(s);
            boolean found = false;
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals("webpolicy-chunk-scheduler")) {
                    found = true;
                    assertTrue(t.isDaemon(), "an unclosed scheduler must not keep the JVM alive");
                }
            }
            assertTrue(found);
        }
    }

    @Test
    void handsOutOtherArraysOfTheReplySlicedWithTheAction() throws Exception {
        TimelinePolicy policy = new TimelinePolicy(clock, 0, 10, false);
        try (ChunkScheduler s = builder(policy).build()) {
            Map<String, Object> a = settledTick(s);
            assertEquals(0L, ((NdArray) a.get("chunk_id")).getLong(0));
            assertEquals(List.of(2L), List.of(((NdArray) a.get("actions")).shape().dim(0)));
        }
    }

    @Test
    void estimatesRobustly() {
        DelayEstimator max = new DelayEstimator(3, 0);
        for (long v : new long[] {9, 2, 3, 4}) {
            max.add(v);
        }
        assertEquals(4, max.estimate(), "the 9 left the window of 3");
        DelayEstimator sigma = new DelayEstimator(10, 2);
        for (long v : new long[] {4, 4, 6, 6}) {
            sigma.add(v);
        }
        assertEquals((long) Math.ceil(5 + 2 * Math.sqrt(4.0 / 3)), sigma.estimate());
    }

    @Test
    void refusesBadOptions() {
        TimelinePolicy policy = new TimelinePolicy(clock, 0, 10, false);
        assertThrows(IllegalArgumentException.class, () -> ChunkScheduler.builder(policy, 0));
        assertThrows(IllegalArgumentException.class, () -> ChunkScheduler.builder(policy, 50).blend(2));
        assertThrows(IllegalArgumentException.class, () -> ChunkScheduler.builder(policy, 50).grace(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> ChunkScheduler.builder(policy, 50).interpolation(0));
    }
}

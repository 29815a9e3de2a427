package org.webpolicy.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.webpolicy.broker.ChunkPolicies.await;
import static org.webpolicy.broker.ChunkPolicies.first;
import static org.webpolicy.broker.ChunkPolicies.observation;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;

class AsyncActionChunkBrokerTest {

    private final List<AsyncActionChunkBroker> brokers = new ArrayList<>();
    private final List<ChunkPolicies.Gated> gated = new ArrayList<>();

    private AsyncActionChunkBroker track(AsyncActionChunkBroker broker) {
        brokers.add(broker);
        return broker;
    }

    /** Unblocks any call still waiting for a permit, so close does not wait for it. */
    @AfterEach
    void closeBrokers() {
        gated.forEach(p -> p.permits.release(1000));
        brokers.forEach(AsyncActionChunkBroker::close);
    }

    /** Horizon 10, threshold 5 over a gated policy whose first call is answered at once. */
    private AsyncActionChunkBroker started(ChunkPolicies.Gated policy, int blendSteps) {
        gated.add(policy);
        policy.permits.release();
        return AsyncActionChunkBroker.builder(policy, 10).threshold(5).blendSteps(blendSteps)
                .waitTimeout(Duration.ofSeconds(10)).build();
    }

    /** Steps ticks from..to-1 and returns each action's first value. */
    private static List<Float> run(AsyncActionChunkBroker broker, long from, long to) {
        List<Float> out = new ArrayList<>();
        for (long t = from; t < to; t++) {
            out.add(first(broker.step(observation(t))));
        }
        return out;
    }

    @Test
    void requestsInTheBackgroundBelowTheThresholdAndStartsTheNewChunkWhereTimeHasGot() throws Exception {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        AsyncActionChunkBroker broker = track(started(policy, 0));
        // Ticks 0-5 leave 10..5 actions: no request. Tick 6 leaves 4 < 5: request with tick 6's observation.
        assertEquals(List.of(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f), run(broker, 0, 8));
        assertEquals(2, broker.chunksRequested());
        await(() -> policy.observations.size() == 2);
        assertEquals(observation(6), policy.observations.get(1));
        assertEquals(1, broker.waits(), "only the first call waited");

        policy.permits.release();
        await(broker::hasUnusedReply);
        // The chunk planned tick 6 as its step 0; tick 8 is its step 2.
        assertEquals(List.of(102f, 103f), run(broker, 8, 10));
        assertEquals(2, broker.skippedActions());
        assertEquals(1, broker.waits());
        // Step 4 of the new chunk leaves 6; step 5 leaves 5; step 6 leaves 4: request at tick 12.
        assertEquals(List.of(104f, 105f, 106f), run(broker, 10, 13));
        assertEquals(3, broker.chunksRequested());
        await(() -> policy.observations.size() == 3);
        assertEquals(observation(12), policy.observations.get(2));
    }

    @Test
    void waitsAtTheBoundaryOnlyWhenTheReplyIsLateAndTimesOutClearly() throws Exception {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        AsyncActionChunkBroker broker = track(AsyncActionChunkBroker.builder(policy, 10).threshold(5)
                .waitTimeout(Duration.ofMillis(50)).build());
        gated.add(policy);
        policy.permits.release();
        run(broker, 0, 10);
        assertEquals(1, broker.waits());
        // The request from tick 6 is still unanswered when the chunk runs out at tick 10.
        ActionUnavailableException e = assertThrows(ActionUnavailableException.class,
                () -> broker.step(observation(10)));
        assertTrue(e.getMessage().contains("50 ms") && e.getMessage().contains("step 6"), e.getMessage());
        assertEquals(2, broker.waits());
        assertEquals(2, broker.chunksRequested(), "no second request while one is outstanding");

        policy.permits.release();
        await(broker::hasUnusedReply);
        assertEquals(List.of(104f), run(broker, 10, 11), "tick 10 is step 4 of the chunk planned at tick 6");
        assertEquals(2, broker.waits());
    }

    @Test
    void aFailedRequestIsRethrownByTheNextCallWithItsCause() throws Exception {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        policy.failing.add(1);
        AsyncActionChunkBroker broker = track(started(policy, 0));
        run(broker, 0, 7);
        policy.permits.release();
        await(broker::hasUnusedReply);
        ActionChunkRequestException e = assertThrows(ActionChunkRequestException.class,
                () -> broker.step(observation(7)));
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertTrue(e.getMessage().contains("model failed on call 1") && e.getMessage().contains("step 6"),
                e.getMessage());
        // The old chunk still has actions; the broker asks again.
        policy.permits.release();
        assertEquals(List.of(7f), run(broker, 7, 8));
        assertEquals(3, broker.chunksRequested());
    }

    @Test
    void aMalformedChunkFromTheBackgroundIsReportedAsItsCause() throws Exception {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        policy.shortCall = 0;
        AsyncActionChunkBroker broker = track(started(policy, 0));
        ActionChunkRequestException e = assertThrows(ActionChunkRequestException.class,
                () -> broker.step(observation(0)));
        assertInstanceOf(ActionChunkException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("'actions'"), e.getCause().getMessage());
    }

    @Test
    void aReplyRequestedBeforeResetIsNeverUsed() throws Exception {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        AsyncActionChunkBroker broker = track(started(policy, 0));
        run(broker, 0, 7);   // call 1 outstanding, from tick 6
        long before = broker.generation();
        Thread resetter = new Thread(() -> broker.reset(Map.of("prompt", "again")));
        resetter.start();
        await(() -> broker.generation() > before);
        policy.permits.release();   // call 1 answers late
        resetter.join(10_000);
        assertFalse(resetter.isAlive());
        assertEquals(1, broker.staleReplies());
        assertEquals(List.of(Map.of("prompt", "again")), policy.resets);

        policy.permits.release();
        assertEquals(List.of(200f, 201f), run(broker, 0, 2), "a fresh chunk from call 2, not call 1's");
        assertEquals(observation(0), policy.observations.get(2), "asked with the first observation after reset");
    }

    @Test
    void aCallWaitingWhenTheBrokerIsResetGivesUpClearly() throws Exception {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        gated.add(policy);
        AsyncActionChunkBroker broker = track(AsyncActionChunkBroker.builder(policy, 10).build());
        java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
        Thread robot = new Thread(() -> {
            try {
                broker.step(observation(0));
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        robot.start();
        await(() -> broker.waits() == 1);
        Thread resetter = new Thread(() -> broker.reset(Map.of()));
        resetter.start();
        robot.join(10_000);
        assertInstanceOf(ActionUnavailableException.class, thrown.get());
        assertTrue(thrown.get().getMessage().contains("reset"), thrown.get().getMessage());
        policy.permits.release(2);   // the abandoned call returns; the reset runs after it
        resetter.join(10_000);
        assertFalse(resetter.isAlive());
        assertEquals(1, broker.staleReplies());
        assertEquals(100f, first(broker.step(observation(0))));
    }

    @Test
    void blendsLinearlyOverTheConfiguredSteps() throws Exception {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        AsyncActionChunkBroker broker = track(started(policy, 2));
        run(broker, 0, 7);   // request at tick 6
        policy.permits.release();
        await(broker::hasUnusedReply);
        // Tick 7: new step 1 (101) with old step 7: w = 1/3. Tick 8: new 102 with old 8: w = 2/3. Then pure.
        List<Float> out = run(broker, 7, 10);
        assertEquals(7 + (101 - 7) / 3f, out.get(0), 1e-4);
        assertEquals(8 + 2 * (102 - 8) / 3f, out.get(1), 1e-4);
        assertEquals(103f, out.get(2));
    }

    @Test
    void blendingLeavesNonFloatValuesToTheNewChunk() throws Exception {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        AsyncActionChunkBroker broker = track(started(policy, 1));
        run(broker, 0, 7);
        policy.permits.release();
        await(broker::hasUnusedReply);
        Map<String, Object> action = broker.step(observation(7));
        NdArray actions = (NdArray) action.get("actions");
        assertEquals(-0.5f, actions.getFloat(1), 1e-6, "(-0 + -1) / 2");
        assertEquals("call 1", action.get("tag"));
    }

    @Test
    void closeStopsTheWorkerAndClosesThePolicy() {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        AsyncActionChunkBroker broker = started(policy, 0);
        broker.step(observation(0));
        broker.close();
        assertTrue(broker.generation() > 0);
        assertTrue(policy.closed);
        assertThrows(IllegalStateException.class, () -> broker.step(observation(1)));
    }

    @Test
    void optionsAreChecked() {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        assertThrows(IllegalArgumentException.class, () -> AsyncActionChunkBroker.builder(policy, 10).threshold(11).build());
        assertThrows(IllegalArgumentException.class, () -> AsyncActionChunkBroker.builder(policy, 10).blendSteps(10).build());
        assertThrows(IllegalArgumentException.class, () -> AsyncActionChunkBroker.builder(policy, 0));
        assertEquals(5, AsyncActionChunkBroker.builder(policy, 10).build().threshold());
    }

    /**
     * A policy that answers {@code latencyTicks} ticks after it is asked (the test hands out its
     * permit then and waits until the reply is in), horizon 10, over 60 ticks. With threshold 7 a
     * request has 6 ticks before the chunk runs out, so a policy 5 ticks slow never makes the robot
     * wait after the first call; with threshold 1 the broker asks only when the chunk is empty and
     * waits at every boundary, even for a policy that answers at once. Tick counts, not sleeps:
     * the outcome does not depend on how loaded the machine is.
     */
    @Test
    void withEnoughThresholdTheRobotNeverWaitsForASlowPolicy() throws Exception {
        assertEquals(1, waitsOver60Ticks(7, 5));
        assertEquals(6, waitsOver60Ticks(1, 0), "one wait per chunk of 10 in 60 ticks");
    }

    private long waitsOver60Ticks(int threshold, int latencyTicks) throws InterruptedException {
        ChunkPolicies.Gated policy = new ChunkPolicies.Gated(10);
        gated.add(policy);
        // The first call is answered at once (the robot waits for it whatever the threshold);
        // with latency 0 every call is.
        policy.permits.release(latencyTicks == 0 ? 1000 : 1);
        AsyncActionChunkBroker broker = track(AsyncActionChunkBroker.builder(policy, 10).threshold(threshold)
                .waitTimeout(Duration.ofSeconds(10)).build());
        long requested = 0;
        long askedAt = -1;
        for (long t = 0; t < 60; t++) {
            broker.step(observation(t));
            if (t > 0 && broker.chunksRequested() > requested) {
                askedAt = t;
            }
            requested = broker.chunksRequested();
            if (askedAt >= 0 && t == askedAt + latencyTicks - 1) {
                policy.permits.release();
                await(broker::hasUnusedReply);
                askedAt = -1;
            }
        }
        assertTrue(broker.chunksRequested() >= 6, "asked " + broker.chunksRequested() + " times");
        return broker.waits();
    }
}

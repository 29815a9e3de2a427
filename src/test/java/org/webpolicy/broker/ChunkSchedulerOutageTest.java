package org.webpolicy.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.webpolicy.transport.PolicyConnectionException;

/**
 * A policy that becomes unreachable for 2 s and then returns, on a fake clock (50 Hz ticks, a
 * 60 ms policy, 50-step chunks): the robot holds its last action through the outage and resumes
 * soon after the return, never with a zero action; with a grace shorter than the outage it
 * faults once, naming the unreachable server.
 */
class ChunkSchedulerOutageTest {

    private static final long MS = 1_000_000L;
    private static final long PERIOD = 20 * MS;
    private static final long T0 = 1_000_000_000L;
    private static final long DOWN = T0 + 2_500 * MS;
    private static final long UP = DOWN + 2_000 * MS;

    private final AtomicLong clock = new AtomicLong(T0);

    private TimelinePolicy outagePolicy() {
        TimelinePolicy policy = new TimelinePolicy(clock, 60 * MS, 50, true);
        policy.failures = n -> clock.get() >= DOWN && clock.get() < UP
                ? new PolicyConnectionException("Could not connect to ws://127.0.0.1:8000: 1 attempt over 0.0 s; Connection refused")
                : null;
        return policy;
    }

    private Map<String, Object> tick(ChunkScheduler s) throws InterruptedException {
        clock.addAndGet(PERIOD);
        Map<String, Object> action = s.step(Map.of("state", 0.0));
        ChunkPolicies.await(() -> !s.awaitingReply());
        return action;
    }

    @Test
    void holdsThroughTheOutageAndResumesSoonAfterTheReturn() throws Exception {
        try (ChunkScheduler s = ChunkScheduler.builder(outagePolicy(), 50).clock(clock::get)
                .grace(Duration.ofSeconds(3)).build()) {
            long resumedAt = -1;
            boolean held = false;
            Object lastHeld = null;
            for (int k = 0; k < 400; k++) {
                Map<String, Object> action = tick(s);
                assertTrue(TimelinePolicy.first(action) >= 1000, "never a zero or made-up action");
                if (s.state() == ChunkScheduler.State.HOLDING) {
                    if (held) {
                        assertEquals(lastHeld, action, "a hold repeats the last action unchanged");
                    }
                    held = true;
                    lastHeld = action;
                } else if (held && resumedAt < 0) {
                    resumedAt = clock.get();
                }
            }
            assertTrue(held, "the robot held during the outage");
            assertTrue(resumedAt >= UP, "resumed before the server returned");
            assertTrue(resumedAt - UP <= 200 * MS, "resumed " + (resumedAt - UP) / MS + " ms after the return");
            ChunkSchedulerStats st = s.stats();
            assertEquals(0, st.faults());
            assertEquals(1, st.holdEpisodes());
            assertEquals(0, st.motion().backwardEvents());
            assertEquals(ChunkScheduler.State.RUNNING, s.state());
        }
    }

    @Test
    void faultsOnceWithTheRightCauseWhenTheGraceIsShorter() throws Exception {
        try (ChunkScheduler s = ChunkScheduler.builder(outagePolicy(), 50).clock(clock::get)
                .grace(Duration.ofMillis(500)).build()) {
            long holdStart = -1;
            ChunkStarvationException fault = null;
            int faults = 0;
            for (int k = 0; k < 400; k++) {
                try {
                    tick(s);
                    if (holdStart < 0 && s.state() == ChunkScheduler.State.HOLDING) {
                        holdStart = clock.get();
                    }
                } catch (ChunkStarvationException e) {
                    if (fault == null) {
                        fault = e;
                        assertTrue(clock.get() - holdStart <= 600 * MS, "faulted " + (clock.get() - holdStart) / MS
                                + " ms into the hold");
                    }
                    faults++;
                }
            }
            assertNotNull(fault);
            assertEquals(StarvationCause.SERVER_UNREACHABLE, fault.starvationCause());
            assertInstanceOf(PolicyConnectionException.class, fault.getCause());
            assertTrue(fault.getMessage().contains("unreachable since " + fault.outageSince()), fault.getMessage());
            assertEquals(1, s.stats().faults(), "one fault, rethrown by every later step until a reset");
            assertTrue(faults > 1);
        }
    }
}

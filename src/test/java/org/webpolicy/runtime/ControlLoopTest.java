package org.webpolicy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.webpolicy.runtime.FakeClock.ms;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;
import org.webpolicy.policy.Policy;

class ControlLoopTest {

    /** Records every call; the episode is complete after {@code completeAfter} steps (0: never). */
    static final class RecordingEnvironment implements Environment {
        final FakeClock clock;
        final int completeAfter;
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        final List<Long> stepStarts = Collections.synchronizedList(new ArrayList<>());
        volatile int resets;
        volatile int stepsInEpisode;

        RecordingEnvironment(FakeClock clock, int completeAfter) {
            this.clock = clock;
            this.completeAfter = completeAfter;
        }

        @Override
        public void reset() {
            resets++;
            stepsInEpisode = 0;
            events.add("env.reset");
        }

        @Override
        public boolean isEpisodeComplete() {
            return completeAfter > 0 && stepsInEpisode >= completeAfter;
        }

        @Override
        public Map<String, Object> getObservation() {
            if (clock != null) {
                stepStarts.add(clock.nanoTime());
            }
            return Map.of("step", (long) stepsInEpisode);
        }

        @Override
        public void applyAction(Map<String, Object> action) {
            stepsInEpisode++;
            events.add("apply " + action.get("step"));
        }
    }

    /** Echoes the observation's step; "takes" latency(step) on the fake clock. */
    static final class TimedAgent implements Agent {
        final FakeClock clock;
        final LongUnaryOperator latencyOfStep;
        int resets;
        long calls;

        TimedAgent(FakeClock clock, LongUnaryOperator latencyOfStep) {
            this.clock = clock;
            this.latencyOfStep = latencyOfStep;
        }

        @Override
        public Map<String, Object> getAction(Map<String, Object> observation) {
            if (clock != null) {
                clock.advance(latencyOfStep.applyAsLong(calls));
            }
            calls++;
            return observation;
        }

        @Override
        public void reset() {
            resets++;
        }
    }

    /** Records the callbacks and lets a test act at a given step. */
    static final class RecordingSubscriber implements Subscriber {
        final List<String> events = new ArrayList<>();
        final List<StepInfo> steps = new ArrayList<>();
        Consumer<StepInfo> onStep = s -> { };

        @Override
        public void onEpisodeStart() {
            events.add("start");
        }

        @Override
        public void onStep(StepInfo step) {
            steps.add(step);
            events.add("step " + step.episode() + "." + step.stepIndex());
            onStep.accept(step);
        }

        @Override
        public void onEpisodeEnd() {
            events.add("end");
        }
    }

    @Test
    void runsExactlyMaxEpisodeStepsPerEpisodeNotPythonsOneMore() {
        RecordingEnvironment env = new RecordingEnvironment(null, 0);
        TimedAgent agent = new TimedAgent(null, s -> 0);
        RecordingSubscriber sub = new RecordingSubscriber();
        ControlLoop loop = ControlLoop.builder().environment(env).agent(agent).subscriber(sub)
                .numEpisodes(3).maxEpisodeSteps(4).build();
        loop.run();
        // openpi's Python runtime would run 5 steps per episode here (its check precedes the count).
        assertEquals(12, loop.steps());
        assertEquals(12, agent.calls);
        assertEquals(List.of("start", "step 0.0", "step 0.1", "step 0.2", "step 0.3", "end",
                "start", "step 1.0", "step 1.1", "step 1.2", "step 1.3", "end",
                "start", "step 2.0", "step 2.1", "step 2.2", "step 2.3", "end"), sub.events);
        assertEquals(4, env.resets, "one per episode and a final one");
        assertEquals("env.reset", env.events.get(env.events.size() - 1));
        assertEquals(3, agent.resets);
        assertEquals(3, loop.episodes());
    }

    @Test
    void anEpisodeEndsWhenTheEnvironmentSaysSo() {
        RecordingEnvironment env = new RecordingEnvironment(null, 5);
        RecordingSubscriber sub = new RecordingSubscriber();
        ControlLoop.builder().environment(env).agent(new TimedAgent(null, s -> 0)).subscriber(sub)
                .numEpisodes(2).maxEpisodeSteps(100).build().run();
        assertEquals(10, sub.steps.size());
        assertEquals(4, sub.steps.get(9).stepIndex());
    }

    @Test
    void theObservationGoesToTheAgentAndItsActionToTheEnvironment() {
        RecordingEnvironment env = new RecordingEnvironment(null, 0);
        RecordingSubscriber sub = new RecordingSubscriber();
        ControlLoop.builder().environment(env).agent(new TimedAgent(null, s -> 0)).subscriber(sub)
                .maxEpisodeSteps(2).build().run();
        assertEquals(List.of("env.reset", "apply 0", "apply 1", "env.reset"), env.events);
        assertEquals(Map.of("step", 1L), sub.steps.get(1).observation());
        assertSame(sub.steps.get(1).observation(), sub.steps.get(1).action(), "the agent echoes");
    }

    @Test
    void stepsStartOnDeadlinesSoSleepOvershootDoesNotAccumulate() {
        // Each sleep wakes 3 ms late and each action takes 5 ms: sleeping a fixed period after
        // each step would drift by 8 ms per step; deadlines keep step k at start + 20k ms (+3 ms).
        FakeClock clock = new FakeClock(ms(3));
        RecordingEnvironment env = new RecordingEnvironment(clock, 0);
        RecordingSubscriber sub = new RecordingSubscriber();
        ControlLoop loop = ControlLoop.builder().environment(env).agent(new TimedAgent(clock, s -> ms(5)))
                .subscriber(sub).maxHz(50).maxEpisodeSteps(100).clock(clock).build();
        loop.run();
        long start = env.stepStarts.get(0);   // step 0 needs no sleep, so it has no overshoot
        for (int k = 1; k < 100; k++) {
            assertEquals(start + k * ms(20) + ms(3), env.stepStarts.get(k), "step " + k);
        }
        assertEquals(0, loop.missedDeadlines());
        assertTrue(sub.steps.stream().allMatch(s -> s.actionLatencyNanos() == ms(5) && !s.deadlineMissed()));
    }

    @Test
    void aLateStepIsCountedAndTheNextStartsAtTheNextFutureDeadlineWithoutBursting() {
        // 20 ms period; step 1's action takes 45 ms, so it ends at 65 ms: slots 2 (40 ms) and
        // 3 (60 ms) have passed; step 2 starts at 80 ms and step 3 at 100 ms, one period apart.
        FakeClock clock = new FakeClock();
        RecordingEnvironment env = new RecordingEnvironment(clock, 0);
        RecordingSubscriber sub = new RecordingSubscriber();
        LatencySubscriber latency = new LatencySubscriber();
        ControlLoop loop = ControlLoop.builder().environment(env)
                .agent(new TimedAgent(clock, s -> s == 1 ? ms(45) : ms(5)))
                .subscriber(sub).subscriber(latency).maxHz(50).maxEpisodeSteps(5).clock(clock).build();
        loop.run();
        long start = env.stepStarts.get(0);
        List<Long> offsets = env.stepStarts.stream().map(t -> (t - start) / 1_000_000).toList();
        assertEquals(List.of(0L, 20L, 80L, 100L, 120L), offsets);
        assertEquals(List.of(false, true, false, false, false), sub.steps.stream().map(StepInfo::deadlineMissed).toList());
        assertEquals(List.of(0L, 2L, 0L, 0L, 0L), sub.steps.stream().map(StepInfo::ticksSkipped).toList());
        assertEquals(1, loop.missedDeadlines());

        LatencySummary summary = latency.lastSummary().orElseThrow();
        assertEquals(5, summary.steps());
        assertEquals(1, summary.missedDeadlines());
        assertEquals(Duration.ofMillis(5), summary.p50());
        assertEquals(Duration.ofMillis(45), summary.p99());
        assertEquals(Duration.ofMillis(45), summary.max());
    }

    @Test
    void aStepEndingExactlyOnTheNextDeadlineIsOnTime() {
        FakeClock clock = new FakeClock();
        RecordingEnvironment env = new RecordingEnvironment(clock, 0);
        RecordingSubscriber sub = new RecordingSubscriber();
        ControlLoop.builder().environment(env).agent(new TimedAgent(clock, s -> ms(20)))
                .subscriber(sub).maxHz(50).maxEpisodeSteps(3).clock(clock).build().run();
        assertTrue(sub.steps.stream().noneMatch(StepInfo::deadlineMissed));
        assertEquals(ms(40), env.stepStarts.get(2) - env.stepStarts.get(0));
    }

    @Test
    void unpacedRunsNeverSleepOrMiss() {
        FakeClock clock = new FakeClock();
        RecordingSubscriber sub = new RecordingSubscriber();
        ControlLoop.builder().environment(new RecordingEnvironment(clock, 0)).agent(new TimedAgent(clock, s -> ms(100)))
                .subscriber(sub).maxEpisodeSteps(3).clock(clock).build().run();
        assertTrue(clock.sleepDeadlines.isEmpty());
        assertTrue(sub.steps.stream().noneMatch(StepInfo::deadlineMissed));
    }

    @Test
    void markEpisodeCompleteEndsTheEpisodeAfterTheCurrentStep() {
        RecordingSubscriber sub = new RecordingSubscriber();
        ControlLoop loop = ControlLoop.builder().environment(new RecordingEnvironment(null, 0))
                .agent(new TimedAgent(null, s -> 0)).subscriber(sub).numEpisodes(2).maxEpisodeSteps(6).build();
        sub.onStep = s -> {
            if (s.episode() == 0 && s.stepIndex() == 2) {
                loop.markEpisodeComplete();
            }
        };
        loop.run();
        assertEquals(List.of("start", "step 0.0", "step 0.1", "step 0.2", "end", "start"), sub.events.subList(0, 6));
        assertEquals(3 + 6, sub.steps.size(), "the second episode runs in full");
    }

    @Test
    void stopEndsTheRunAfterTheCurrentStepAndStillResetsTheEnvironment() {
        RecordingEnvironment env = new RecordingEnvironment(null, 0);
        RecordingSubscriber sub = new RecordingSubscriber();
        ControlLoop loop = ControlLoop.builder().environment(env).agent(new TimedAgent(null, s -> 0)).subscriber(sub)
                .numEpisodes(3).build();
        sub.onStep = s -> {
            if (s.stepIndex() == 1) {
                loop.stop();
            }
        };
        loop.run();
        assertEquals(List.of("start", "step 0.0", "step 0.1", "end"), sub.events);
        assertEquals(2, env.resets);
    }

    @Test
    void runInNewThreadCanBeStoppedFromAnotherThread() throws Exception {
        RecordingEnvironment env = new RecordingEnvironment(null, 0);
        ControlLoop loop = ControlLoop.builder().environment(env).agent(new TimedAgent(null, s -> 0)).maxHz(1000).build();
        RunHandle handle = loop.runInNewThread();
        assertEquals("webpolicy-control-loop", handle.thread().getName());
        while (loop.steps() < 3) {
            Thread.sleep(1);
        }
        handle.stop();
        assertTrue(handle.await(Duration.ofSeconds(10)));
        assertTrue(handle.isDone());
        handle.thread().join(10_000);
        assertFalse(handle.thread().isAlive());
        assertEquals(2, env.resets, "the episode's reset and the final one");
    }

    @Test
    void aFailingAgentEndsTheRunWithItsExceptionAfterSendingTheRobotHome() throws Exception {
        RecordingEnvironment env = new RecordingEnvironment(null, 0);
        IllegalStateException boom = new IllegalStateException("policy down");
        Agent agent = new Agent() {
            @Override
            public Map<String, Object> getAction(Map<String, Object> observation) {
                throw boom;
            }

            @Override
            public void reset() {
            }
        };
        ControlLoop loop = ControlLoop.builder().environment(env).agent(agent).build();
        RunHandle handle = loop.runInNewThread();
        IllegalStateException thrown = assertThrows(IllegalStateException.class, handle::await);
        assertSame(boom, thrown);
        assertEquals(2, env.resets);
    }

    @Test
    void aRuntimeRunsOnce() {
        ControlLoop loop = ControlLoop.builder().environment(new RecordingEnvironment(null, 1))
                .agent(new TimedAgent(null, s -> 0)).build();
        loop.run();
        assertThrows(IllegalStateException.class, loop::run);
    }

    @Test
    void policyAgentStepsAndResetsItsPolicy() {
        List<Map<String, Object>> resets = new ArrayList<>();
        Policy policy = new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                return Map.of("seen", observation);
            }

            @Override
            public void reset(Map<String, Object> payload) {
                resets.add(payload);
            }
        };
        PolicyAgent agent = new PolicyAgent(policy, Map.of("prompt", "fold the towel"));
        assertEquals(Map.of("seen", Map.of("x", 1L)), agent.getAction(Map.of("x", 1L)));
        agent.reset();
        assertEquals(List.of(Map.of("prompt", "fold the towel")), resets);
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> ControlLoop.builder().maxHz(-1));
        assertThrows(IllegalArgumentException.class, () -> ControlLoop.builder().maxHz(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> ControlLoop.builder().maxEpisodeSteps(-1));
        assertThrows(NullPointerException.class, () -> ControlLoop.builder().agent(new TimedAgent(null, s -> 0)).build());
    }
}

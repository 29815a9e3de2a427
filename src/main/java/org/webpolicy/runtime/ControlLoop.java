package org.webpolicy.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control loop: runs episodes of environment → agent → environment at up to
 * {@code maxHz}, as openpi's {@code openpi_client.runtime.Runtime} (named otherwise here so that it
 * does not shadow {@code java.lang.Runtime}).
 *
 * <pre>{@code
 * ControlLoop loop = ControlLoop.builder().environment(robot).agent(new PolicyAgent(broker))
 *         .subscriber(new LatencySubscriber()).maxHz(50).maxEpisodeSteps(1000).build();
 * loop.run();
 * }</pre>
 *
 * <h2>An episode</h2>
 * Reset the environment, reset the agent, tell the subscribers; then step until the environment
 * reports the episode complete, {@link #markEpisodeComplete()} is called, the step limit is
 * reached or {@link #stop()} is called. A step reads the observation, asks the agent, applies
 * the action, tells the subscribers ({@link StepInfo}), then asks the environment whether the
 * episode is complete. After the last episode the environment is reset once more, so a real
 * robot goes home; this also happens after {@code stop()} and after a failure (whose exception
 * is then thrown, with the reset's own failure, if any, suppressed into it).
 *
 * <h2>Step limit: one fewer than Python</h2>
 * With {@code maxEpisodeSteps = n > 0} an episode has exactly {@code n} steps. openpi's Python
 * runtime runs {@code n + 1}: it checks {@code episode_steps >= max_episode_steps} inside the
 * step, before incrementing the counter. 0 means no limit, as in Python.
 *
 * <h2>Pacing</h2>
 * Steps start on deadlines: step slot {@code k} of an episode at {@code start + k / maxHz}, so
 * sleep overshoot and step durations do not accumulate into drift. A step that ends after the
 * next slot's deadline has missed it ({@link StepInfo#deadlineMissed()}); the loop then does not
 * run steps back to back to catch up but starts the next one at the next deadline still ahead,
 * skipping the slots that passed ({@link StepInfo#ticksSkipped()}). {@code maxHz = 0} (the
 * default, as in Python) runs unpaced, on the system's monotonic clock ({@link System#nanoTime()}).
 *
 * <h2>Threading and lifecycle</h2>
 * A loop runs once, on the thread calling {@link #run()} or on the one
 * {@link #runInNewThread()} starts. {@link #markEpisodeComplete()} and {@link #stop()} may be
 * called from any thread; both take effect after the current step (a paced loop may finish its
 * sleep first: at most one period). A mark made before an episode has started is forgotten at
 * its start, as in Python. The loop closes nothing it was given.
 */
public final class ControlLoop {

    private static final Logger log = LoggerFactory.getLogger(ControlLoop.class);

    private final Environment environment;
    private final Agent agent;
    private final List<Subscriber> subscribers;
    private final double maxHz;
    private final int numEpisodes;
    private final long maxEpisodeSteps;
    private final PacingClock clock;

    private final AtomicBoolean started = new AtomicBoolean();
    private volatile boolean episodeComplete;
    private volatile boolean stopRequested;
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong missedDeadlines = new AtomicLong();
    private final AtomicLong episodesRun = new AtomicLong();

    private ControlLoop(Builder b) {
        this.environment = Objects.requireNonNull(b.environment, "environment");
        this.agent = Objects.requireNonNull(b.agent, "agent");
        this.subscribers = List.copyOf(b.subscribers);
        this.maxHz = b.maxHz;
        this.numEpisodes = b.numEpisodes;
        this.maxEpisodeSteps = b.maxEpisodeSteps;
        this.clock = b.clock;
    }

    /**
     * A builder; an environment and an agent are required.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs every episode, then resets the environment once more. Returns when done or stopped.
     *
     * @throws IllegalStateException when this loop has already run
     */
    public void run() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("A ControlLoop runs once; build another");
        }
        Throwable failure = null;
        try {
            for (int episode = 0; episode < numEpisodes && !stopRequested; episode++) {
                runEpisode(episode);
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            // A real robot goes home after the last episode, whatever ended the run.
            try {
                environment.reset();
            } catch (RuntimeException e) {
                if (failure == null) {
                    throw e;
                }
                failure.addSuppressed(e);
            }
        }
    }

    /**
     * Starts {@link #run()} on a new (non-daemon) thread named {@code webpolicy-control-loop}.
     *
     * @return a handle to stop the run, wait for it and see its failure
     * @throws IllegalStateException when this loop has already run
     */
    public RunHandle runInNewThread() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                run();
                done.complete(null);
            } catch (Throwable t) { // handed to whoever awaits the handle
                done.completeExceptionally(t);
            }
        }, "webpolicy-control-loop");
        thread.start();
        return new RunHandle(this, thread, done);
    }

    /** Ends the current episode after its current step; the next episode (if any) follows. */
    public void markEpisodeComplete() {
        episodeComplete = true;
    }

    /** Ends the run after the current step: the episode ends, no other starts, the environment is reset. */
    public void stop() {
        stopRequested = true;
    }

    /**
     * Steps taken so far, over all episodes.
     *
     * @return the step count
     */
    public long steps() {
        return steps.get();
    }

    /**
     * Steps so far that missed their deadline, over all episodes.
     *
     * @return the missed deadlines
     */
    public long missedDeadlines() {
        return missedDeadlines.get();
    }

    /**
     * Episodes started so far.
     *
     * @return the episode count
     */
    public long episodes() {
        return episodesRun.get();
    }

    private void runEpisode(int episode) {
        log.info("Starting episode {}", episode);
        environment.reset();
        agent.reset();
        episodeComplete = false;
        episodesRun.incrementAndGet();
        for (Subscriber s : subscribers) {
            s.onEpisodeStart();
        }
        long period = maxHz > 0 ? Math.max(1, Math.round(1e9 / maxHz)) : 0;
        long start = clock.nanoTime();
        long slot = 0;
        long step = 0;
        while (!episodeComplete && !stopRequested && (maxEpisodeSteps == 0 || step < maxEpisodeSteps)) {
            if (period > 0 && !sleepUntil(start + slot * period)) {
                break;
            }
            Map<String, Object> observation = environment.getObservation();
            long before = clock.nanoTime();
            Map<String, Object> action = agent.getAction(observation);
            long latency = clock.nanoTime() - before;
            environment.applyAction(action);

            boolean missed = false;
            long skipped = 0;
            if (period > 0) {
                long next = slot + 1;
                long elapsed = clock.nanoTime() - start;
                if (elapsed > next * period) {
                    missed = true;
                    long due = Math.floorDiv(elapsed + period - 1, period); // first slot not yet passed
                    skipped = due - next;
                    next = due;
                }
                slot = next;
            }
            if (missed) {
                missedDeadlines.incrementAndGet();
            }
            steps.incrementAndGet();
            StepInfo info = new StepInfo(episode, step, observation, action, latency, missed, skipped);
            step++;
            for (Subscriber s : subscribers) {
                s.onStep(info);
            }
            if (environment.isEpisodeComplete()) {
                episodeComplete = true;
            }
        }
        log.info("Episode {} completed after {} steps", episode, step);
        for (Subscriber s : subscribers) {
            s.onEpisodeEnd();
        }
    }

    /** False when interrupted, which stops the run (the interrupt flag is kept). */
    private boolean sleepUntil(long deadline) {
        try {
            clock.sleepUntil(deadline);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopRequested = true;
            return false;
        }
    }

    /** Options of a {@link ControlLoop}: an environment and an agent are required. */
    public static final class Builder {
        private Environment environment;
        private Agent agent;
        private final List<Subscriber> subscribers = new ArrayList<>();
        private double maxHz;
        private int numEpisodes = 1;
        private long maxEpisodeSteps;
        private PacingClock clock = PacingClock.system();

        private Builder() {
        }

        /**
         * The robot the loop drives. Required.
         *
         * @param environment the environment; the loop does not close it
         * @return this builder
         */
        public Builder environment(Environment environment) {
            this.environment = Objects.requireNonNull(environment, "environment");
            return this;
        }

        /**
         * Chooses the actions. Required.
         *
         * @param agent the agent, e.g. a {@link PolicyAgent} over a broker
         * @return this builder
         */
        public Builder agent(Agent agent) {
            this.agent = Objects.requireNonNull(agent, "agent");
            return this;
        }

        /**
         * Adds a subscriber; they are told in the order added.
         *
         * @param subscriber told of episodes and steps, on the loop's thread
         * @return this builder
         */
        public Builder subscriber(Subscriber subscriber) {
            subscribers.add(Objects.requireNonNull(subscriber, "subscriber"));
            return this;
        }

        /**
         * Adds subscribers, in order.
         *
         * @param more the subscribers
         * @return this builder
         */
        public Builder subscribers(List<? extends Subscriber> more) {
            more.forEach(this::subscriber);
            return this;
        }

        /**
         * Steps per second at most; default 0, unpaced.
         *
         * @param maxHz the rate; 0 for no pacing
         * @return this builder
         * @throws IllegalArgumentException when negative, infinite or NaN
         */
        public Builder maxHz(double maxHz) {
            if (!(maxHz >= 0) || Double.isInfinite(maxHz)) {
                throw new IllegalArgumentException("maxHz must be finite and at least 0, got " + maxHz);
            }
            this.maxHz = maxHz;
            return this;
        }

        /**
         * Episodes to run; default 1.
         *
         * @param numEpisodes how many episodes
         * @return this builder
         * @throws IllegalArgumentException when negative
         */
        public Builder numEpisodes(int numEpisodes) {
            if (numEpisodes < 0) {
                throw new IllegalArgumentException("numEpisodes must be at least 0, got " + numEpisodes);
            }
            this.numEpisodes = numEpisodes;
            return this;
        }

        /**
         * Steps per episode at most (exactly this many unless the episode ends first); default 0, no limit.
         *
         * @param maxEpisodeSteps the limit; 0 for none
         * @return this builder
         * @throws IllegalArgumentException when negative
         */
        public Builder maxEpisodeSteps(long maxEpisodeSteps) {
            if (maxEpisodeSteps < 0) {
                throw new IllegalArgumentException("maxEpisodeSteps must be at least 0, got " + maxEpisodeSteps);
            }
            this.maxEpisodeSteps = maxEpisodeSteps;
            return this;
        }

        /**
         * The clock pacing steps; default {@link PacingClock#system()}. Package-private: only
         * the tests replace it.
         *
         * @param clock the clock; tests pass a fake one
         * @return this builder
         */
        Builder clock(PacingClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Makes the loop; the builder may be reused.
         *
         * @return a loop that runs once
         * @throws NullPointerException when no environment or no agent was given
         */
        public ControlLoop build() {
            return new ControlLoop(this);
        }
    }
}

package org.webpolicy.broker;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.webpolicy.policy.Policy;

/**
 * An {@link ActionChunkBroker} that asks for the next chunk before the current one runs out, so
 * the robot does not stop at chunk boundaries while the policy thinks.
 *
 * <p>Superseded by {@link ChunkScheduler}, which a new robot should use: it asks by measured
 * turnaround instead of a fixed threshold, sends the continuation to policies that take one,
 * and holds the last action then faults with the cause when the policy is gone, where this
 * broker waits up to {@code waitTimeout} and names only the request still running. This class
 * keeps working unchanged for code that uses it.
 *
 * <pre>{@code
 * try (AsyncActionChunkBroker broker = AsyncActionChunkBroker.builder(client, 25).threshold(10).build()) {
 *     Map<String, Object> action = broker.step(observation);   // one action per control tick
 * }
 * }</pre>
 *
 * <h2>When it asks</h2>
 * Time is counted in calls to {@link #step} ("ticks"; tick 0 is the first call after
 * construction or {@link #reset}). At the start of tick {@code k}, when the current chunk has
 * fewer than {@code threshold} actions left (counting the one tick {@code k} is about to use),
 * and no request is outstanding, the broker sends tick {@code k}'s observation to the policy on
 * its own thread and carries on serving the current chunk. At most one request is outstanding at
 * a time. With {@code threshold = actionHorizon} it asks again as soon as a chunk is in use.
 *
 * <h2>Overlap: where the new chunk starts</h2>
 * A chunk computed from tick {@code k}'s observation plans tick {@code k} as its step 0. When it
 * arrives, the next tick to serve is {@code t = k + e}: the first {@code e} steps were meant for
 * ticks that have passed (the old chunk served them), so the broker switches to the new chunk at
 * step {@code e} at once, dropping what is left of the old one. {@link #skippedActions()} sums
 * these {@code e}. Since a request is made while fewer than {@code threshold} old actions are
 * left and {@code threshold <= actionHorizon}, {@code e < actionHorizon} always. Ticks count
 * actions executed, not wall time: a tick the control loop skipped (a missed deadline) moved no
 * joint, so it does not advance the plan.
 *
 * <h2>Blending ({@code blendSteps}, default 0)</h2>
 * With {@code blendSteps = b > 0}, the first {@code b} actions after a switch are linear blends
 * of the new plan and what the old plan would have done at the same tick: for the {@code j}-th
 * tick after the switch ({@code j = 0 .. b-1}) the action is
 * {@code (1 - w) * old[oldStep + j] + w * new[e + j]} with {@code w = (j + 1) / (b + 1)}, where
 * {@code oldStep} is the old chunk's next unused step. Blending stops early when the old chunk
 * has no step left within its horizon. Only float32 and float64 arrays at the same path with the
 * same shape in both chunks are blended (into new arrays); other values come from the new
 * chunk. With {@code b = 0} the switch is a plain cut.
 *
 * <h2>Waiting</h2>
 * When no action is cached (the first tick, or the policy is slower than the threshold allows)
 * the call waits for the outstanding reply, up to {@code waitTimeout} (default 10 s), then throws
 * {@link ActionUnavailableException}; {@link #waits()} counts the calls that had to wait, so a
 * control loop can tell whether the threshold hides the policy's latency. A request that failed
 * (the policy threw, or its reply is not a valid chunk) is rethrown by the next call as an
 * {@link ActionChunkRequestException} with the failure as its cause.
 *
 * <h2>Reset, close and threading</h2>
 * {@link #reset} drops the cached chunk and any reply still to come: each request carries the
 * generation it was made in, and a reply from an older generation is discarded
 * ({@link #staleReplies()}). The wrapped policy is only ever called from the broker's one worker
 * thread, so it need not be thread-safe: {@code reset} runs the policy's reset on that thread
 * after the outstanding call (if any) returns, and waits for it. {@link #step} is meant for one
 * control thread; {@code reset}, {@link #close} and the counters may be called from any thread.
 * The broker owns the wrapped policy: {@code close} stops the worker (waiting up to 5 s for an
 * outstanding call, then interrupting it) and closes the policy.
 */
public final class AsyncActionChunkBroker implements Policy {

    private final Policy policy;
    private final int actionHorizon;
    private final int threshold;
    private final int blendSteps;
    private final Duration waitTimeout;
    private final PolicyThread worker;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a reply (chunk or failure) of the current generation arrives, and on reset and close. */
    private final Condition replied = lock.newCondition();

    // All below guarded by lock.
    private long generation;
    private long tick;
    private ActionChunk current;
    private long currentStep;
    /** The chunk replaced at the last switch, while it is blended in; null otherwise. */
    private ActionChunk previous;
    private long previousStep;
    private int blendedSoFar;
    /** True from sending a request until its reply is used (or dropped by reset). */
    private boolean outstanding;
    private long requestedAtTick;
    private ActionChunk arrived;
    private ActionChunkRequestException failure;
    private boolean closed;
    private long chunksRequested;
    private long waits;
    private long skippedActions;
    private long staleReplies;

    private AsyncActionChunkBroker(Builder b) {
        this.policy = b.policy;
        this.actionHorizon = b.actionHorizon;
        this.threshold = b.threshold == 0 ? Math.max(1, b.actionHorizon / 2) : b.threshold;
        if (threshold > actionHorizon) {
            throw new IllegalArgumentException("threshold (" + threshold + ") must not exceed actionHorizon ("
                    + actionHorizon + ")");
        }
        if (b.blendSteps >= actionHorizon) {
            throw new IllegalArgumentException("blendSteps (" + b.blendSteps + ") must be below actionHorizon ("
                    + actionHorizon + ")");
        }
        this.blendSteps = b.blendSteps;
        this.waitTimeout = b.waitTimeout;
        this.worker = new PolicyThread(policy, "webpolicy-async-broker");
    }

    /**
     * A builder for a broker over {@code policy} using {@code actionHorizon} steps of each chunk.
     *
     * @param policy the policy answering with chunks; the broker owns it
     * @param actionHorizon how many steps of each chunk to use, at least 1
     * @return a builder; {@link Builder#build()} makes the broker
     * @throws NullPointerException when {@code policy} is null
     * @throws IllegalArgumentException when {@code actionHorizon} is below 1
     */
    public static Builder builder(Policy policy, int actionHorizon) {
        return new Builder(policy, actionHorizon);
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        Objects.requireNonNull(observation, "observation");
        lock.lock();
        try {
            requireOpen();
            surfaceFailure();
            switchToArrived();
            if (actionsLeft() == 0) {
                if (!outstanding) {
                    request(observation);
                }
                waits++;
                awaitReply();
                switchToArrived();
            }
            if (!outstanding && actionsLeft() < threshold) {
                request(observation);
            }
            Map<String, Object> action = takeAction();
            tick++;
            return action;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops the cached chunk and any reply still to come, then resets the wrapped policy (on the
     * worker thread, after an outstanding call returns) and waits for that. Counters are kept.
     */
    @Override
    public void reset(Map<String, Object> payload) {
        Future<?> policyReset;
        lock.lock();
        try {
            requireOpen();
            generation++;
            tick = 0;
            current = null;
            previous = null;
            arrived = null;
            failure = null;
            outstanding = false;
            replied.signalAll();
            // Submitted under the lock so no request of the new generation can run before it.
            policyReset = worker.reset(payload);
        } finally {
            lock.unlock();
        }
        PolicyThread.await(policyReset);
    }

    @Override
    public Map<String, Object> metadata() {
        return policy.metadata();
    }

    /** Stops the worker and closes the wrapped policy; later calls throw IllegalStateException. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            generation++;
            replied.signalAll();
        } finally {
            lock.unlock();
        }
        worker.close();
    }

    /**
     * Requests sent to the wrapped policy so far (the first, synchronous one included).
     *
     * @return the request count
     */
    public long chunksRequested() {
        return locked(() -> chunksRequested);
    }

    /**
     * Calls to {@link #step} that found no action and had to wait for a reply (the first call
     * always does). Zero after the first means the policy's latency stayed hidden.
     *
     * @return the number of calls that waited
     */
    public long waits() {
        return locked(() -> waits);
    }

    /**
     * The sum over switches of the steps skipped at the start of a new chunk (see the class doc).
     *
     * @return the skipped steps
     */
    public long skippedActions() {
        return locked(() -> skippedActions);
    }

    /**
     * Replies that arrived after a {@link #reset} (or {@link #close}) and were discarded.
     *
     * @return the discarded replies
     */
    public long staleReplies() {
        return locked(() -> staleReplies);
    }

    /**
     * Steps used of each chunk.
     *
     * @return the action horizon this broker was built with
     */
    public int actionHorizon() {
        return actionHorizon;
    }

    /**
     * Fewer actions left than this starts the next request.
     *
     * @return the threshold in use (the default resolved)
     */
    public int threshold() {
        return threshold;
    }

    /**
     * Ticks over which a new chunk is blended in; 0 for a plain cut.
     *
     * @return the blend length
     */
    public int blendSteps() {
        return blendSteps;
    }

    /** For tests: a reply (chunk or failure) has arrived and not been used yet. */
    boolean hasUnusedReply() {
        lock.lock();
        try {
            return arrived != null || failure != null;
        } finally {
            lock.unlock();
        }
    }

    /** For tests: bumped by every reset and by close. */
    long generation() {
        return locked(() -> generation);
    }

    // ---- under the lock ----

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("The broker is closed");
        }
    }

    private long actionsLeft() {
        return current == null ? 0 : actionHorizon - currentStep;
    }

    private void request(Map<String, Object> observation) {
        outstanding = true;
        requestedAtTick = tick;
        chunksRequested++;
        long requestGeneration = generation;
        long requestTick = tick;
        worker.execute(() -> fetch(observation, requestGeneration, requestTick));
    }

    /** Runs on the worker thread. */
    private void fetch(Map<String, Object> observation, long requestGeneration, long requestTick) {
        ActionChunk chunk = null;
        Throwable error = null;
        try {
            chunk = ActionChunk.of(policy.step(observation), actionHorizon);
        } catch (Throwable t) { // everything reaches the control thread, Errors included
            error = t;
        }
        lock.lock();
        try {
            if (requestGeneration != generation) {
                staleReplies++;
                return;
            }
            if (error != null) {
                failure = new ActionChunkRequestException("The request for an action chunk made at step " + requestTick
                        + " failed: " + error, error);
            } else {
                arrived = chunk;
            }
            replied.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void surfaceFailure() {
        if (failure != null) {
            ActionChunkRequestException f = failure;
            failure = null;
            outstanding = false;
            throw f;
        }
    }

    private void awaitReply() {
        long waitGeneration = generation;
        long remaining = waitTimeout.toNanos();
        while (arrived == null && failure == null) {
            if (closed) {
                throw new ActionUnavailableException("The broker was closed while waiting for an action chunk");
            }
            if (waitGeneration != generation) {
                throw new ActionUnavailableException("The broker was reset while waiting for an action chunk");
            }
            if (remaining <= 0) {
                throw new ActionUnavailableException("No action chunk within " + waitTimeout.toMillis()
                        + " ms: the request made at step " + requestedAtTick + " is still running at step " + tick);
            }
            try {
                remaining = replied.awaitNanos(remaining);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ActionUnavailableException("Interrupted while waiting for an action chunk");
            }
        }
        surfaceFailure();
    }

    private void switchToArrived() {
        if (arrived == null) {
            return;
        }
        long elapsed = tick - requestedAtTick;
        if (elapsed >= actionHorizon) {
            // Unreachable while threshold <= actionHorizon: the old chunk runs out first and the
            // caller waits, which does not advance the tick.
            throw new IllegalStateException("Chunk requested at step " + requestedAtTick + " arrived at step " + tick
                    + ", past its horizon " + actionHorizon);
        }
        if (blendSteps > 0 && actionsLeft() > 0) {
            previous = current;
            previousStep = currentStep;
            blendedSoFar = 0;
        } else {
            previous = null;
        }
        current = arrived;
        currentStep = elapsed;
        skippedActions += elapsed;
        arrived = null;
        outstanding = false;
    }

    private Map<String, Object> takeAction() {
        Map<String, Object> action;
        if (previous != null && blendedSoFar < blendSteps && previousStep < actionHorizon) {
            double weight = (blendedSoFar + 1.0) / (blendSteps + 1.0);
            action = current.blendedStepAt(currentStep, previous, previousStep, weight);
            previousStep++;
            blendedSoFar++;
        } else {
            previous = null;
            action = current.stepAt(currentStep);
        }
        currentStep++;
        return action;
    }

    private long locked(java.util.function.LongSupplier read) {
        lock.lock();
        try {
            return read.getAsLong();
        } finally {
            lock.unlock();
        }
    }

    /** Options of an {@link AsyncActionChunkBroker}. */
    public static final class Builder {
        private final Policy policy;
        private final int actionHorizon;
        private int threshold;
        private int blendSteps;
        private Duration waitTimeout = Duration.ofSeconds(10);

        private Builder(Policy policy, int actionHorizon) {
            this.policy = Objects.requireNonNull(policy, "policy");
            if (actionHorizon < 1) {
                throw new IllegalArgumentException("actionHorizon must be at least 1, got " + actionHorizon);
            }
            this.actionHorizon = actionHorizon;
        }

        /**
         * Request the next chunk when fewer than this many actions are left; 1 to
         * {@code actionHorizon}, default {@code max(1, actionHorizon / 2)}. It should exceed the
         * policy's latency in ticks, or the robot waits at chunk boundaries.
         *
         * @param threshold from 1 to the action horizon (checked by {@link #build()})
         * @return this builder
         * @throws IllegalArgumentException when {@code threshold} is below 1
         */
        public Builder threshold(int threshold) {
            if (threshold < 1) {
                throw new IllegalArgumentException("threshold must be at least 1, got " + threshold);
            }
            this.threshold = threshold;
            return this;
        }

        /**
         * Ticks over which a new chunk is blended in (see the class doc); default 0, a plain cut.
         *
         * @param blendSteps from 0 to the action horizon - 1 (checked by {@link #build()})
         * @return this builder
         * @throws IllegalArgumentException when {@code blendSteps} is negative
         */
        public Builder blendSteps(int blendSteps) {
            if (blendSteps < 0) {
                throw new IllegalArgumentException("blendSteps must be at least 0, got " + blendSteps);
            }
            this.blendSteps = blendSteps;
            return this;
        }

        /**
         * How long a call waits when no action is cached; default 10 s.
         *
         * @param waitTimeout a positive duration
         * @return this builder
         * @throws IllegalArgumentException when {@code waitTimeout} is zero or negative
         */
        public Builder waitTimeout(Duration waitTimeout) {
            if (waitTimeout.isNegative() || waitTimeout.isZero()) {
                throw new IllegalArgumentException("waitTimeout must be positive, got " + waitTimeout);
            }
            this.waitTimeout = waitTimeout;
            return this;
        }

        /**
         * Makes the broker and starts its worker thread.
         *
         * @return a new broker owning the policy
         * @throws IllegalArgumentException when the threshold exceeds the action horizon, or the blend
         *     steps reach it
         */
        public AsyncActionChunkBroker build() {
            return new AsyncActionChunkBroker(this);
        }
    }
}

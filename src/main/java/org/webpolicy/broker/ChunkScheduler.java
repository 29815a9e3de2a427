package org.webpolicy.broker;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;

/**
 * The robot's chunk scheduler: turns a policy that answers with chunks of actions into one
 * action per control tick, asking for the next chunk in the background early enough that the
 * robot never waits, continuing the motion across chunk switches, and holding then faulting
 * (never inventing an action) when the policy is gone. The one class a robot should use; it
 * succeeds {@link AsyncActionChunkBroker} ({@link ActionChunkBroker} stays as openpi's
 * synchronous broker).
 *
 * <pre>{@code
 * try (ChunkScheduler scheduler = ChunkScheduler.builder(client, 50).build()) {  // 50 Hz control
 *     Map<String, Object> action = scheduler.step(observation);                  // every tick
 *     if (scheduler.state() == ChunkScheduler.State.HOLDING) { ... }             // optional
 * }
 * }</pre>
 *
 * <h2>The timeline</h2>
 * The cursor counts actions executed since the episode began. A request made while the robot
 * executes action {@code c} (the action this tick hands out) carries that tick's observation and
 * cursor {@code c}: row {@code i} of its reply is meant for action {@code c + i}. When the reply
 * is used, {@code m} = actions executed since then is its <em>measured delay</em>: rows before
 * {@code m} are past, and the robot goes on with row {@code m}. A tick at which the robot holds
 * (see below) executes no plan action and does not move the cursor.
 *
 * <h2>When it asks</h2>
 * At each tick with no request out, when the actions left in the plan are at most
 * {@code max(lead, worst recent turnaround + one tick)} (in actions at the control rate): the
 * turnaround is the time from sending a request to its reply over the last {@code window}
 * replies, the very first (cold) reply excluded once another exists, and so is a reply whose
 * request waited out a {@code PolicyClient}'s reconnection (it measured an outage); until then
 * the first refill goes out at half the plan at the latest. {@link #stats()} shows the refill
 * point in use.
 *
 * <h2>The continuation</h2>
 * When the policy {@linkplain Policy#acceptsContinuation() accepts one}, each request after the
 * first carries a {@link Continuation}: the plan's rows from {@code c} on (padded to the chunk's
 * length with the last row, never zeros), the cursor {@code c}, the generation, and the delay
 * {@code d}: the actions expected to execute before the reply is used, estimated from the
 * measured delays of recent replies (their maximum, or mean + K&sigma;, see the builder),
 * clamped to half the chunk. A policy that freezes its first {@code d} rows to the given ones
 * continues the motion without a seam. Other policies get plain {@link Policy#step(Map)}.
 *
 * <h2>Switching</h2>
 * A reply replaces only the future: actions already handed out (with interpolation, the one
 * being interpolated towards) stay. The switch happens under the lock at the start of a tick, so
 * a tick sees the old plan or the new one, never a mix. A reply with no row left that is not past
 * is dropped and the queue kept ({@code unusableReplies}); a reply of an older generation
 * (before a {@link #reset}) or of an older request is dropped ({@code lateReplies}). With
 * {@code blend(steps, components...)} the listed components of the first {@code steps} new rows
 * are blended linearly with the old plan's rows for the same actions, only while the old plan
 * has such rows (the overlap); unlisted components (grippers) switch at once.
 *
 * <h2>Interpolation</h2>
 * With {@code interpolation(n)}, {@link #step} is called at {@code n} times the control rate (a
 * motor rate) and hands out {@code n} linear sub-steps from the last action to the next; the
 * cursor moves once per action. A new plan takes over at the next whole action.
 *
 * <h2>Starvation: hold, then fault</h2>
 * The first call of an episode has no action to hold: it waits for the first chunk (retrying
 * failed requests) up to {@code startTimeout} ({@link #waits()} counts these calls). Later, when
 * the plan runs out, each call returns the last action handed out, unchanged (state
 * {@link State#HOLDING}), while requests are retried at every tick; after {@code grace} (default
 * 1 s) of holding, the scheduler faults: the call throws a {@link ChunkStarvationException}
 * naming the cause (server unreachable since when, request timed out, the server's error text, a
 * policy slower than the horizon allows), and so does every call after it until a reset. An
 * outage is logged at WARN once when the first request fails and once when one succeeds again.
 *
 * <h2>Threading and lifecycle</h2>
 * The wrapped policy is called only from the scheduler's one worker thread, a daemon (an
 * unclosed scheduler does not keep the JVM alive), so it need not be thread-safe. {@link #step}
 * is for one control thread; {@link #state()}, {@link #stats()}, {@link #reset} and
 * {@link #close} may be called from any thread. The scheduler owns the policy: {@code close}
 * stops the worker (waiting up to 5 s for a call under way, then interrupting it) and closes it.
 */
public final class ChunkScheduler implements Policy {

    /** What the robot is doing, for a control loop that wants to react. */
    public enum State {
        /** No action yet in this episode: the first call waits for the first chunk. */
        STARTING,
        /** Executing planned actions. */
        RUNNING,
        /** The plan ran out: the last action is held while the next chunk is awaited. */
        HOLDING,
        /** Held for longer than the grace: every step throws until {@link #reset}. */
        FAULTED
    }

    private static final Logger log = LoggerFactory.getLogger(ChunkScheduler.class);

    private final Policy policy;
    private final SchedulerOptions o;
    private final ChunkWorker worker;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a reply of the current request arrives, and on reset and close. */
    private final Condition replied = lock.newCondition();

    // All below guarded by lock.
    private final RefillTiming timing;
    private final Playback playback;
    private final Outage outage = new Outage();
    private long generation;
    private Map<String, Object> lastHandedOut;
    private ChunkWorker.Request outstanding;
    private ChunkWorker.Reply arrived;
    private long requestIds;
    private State state = State.STARTING;
    private ChunkStarvationException fault;
    private long holdStart = -1;
    private boolean closed;
    private final SchedulerCounts counts = new SchedulerCounts();

    ChunkScheduler(Policy policy, SchedulerOptions options) {
        this.policy = policy;
        this.o = options;
        this.timing = new RefillTiming(options);
        this.playback = new Playback(options);
        this.worker = new ChunkWorker(policy, options);
    }

    /**
     * A builder for a scheduler over {@code policy} for a robot executing {@code controlHz}
     * actions per second.
     *
     * @param policy the policy answering with chunks ({@code actions}: float (H, A)); the scheduler owns it
     * @param controlHz the policy's action rate on the robot, above 0
     * @return a builder with the defaults of {@link ChunkSchedulerBuilder}
     */
    public static ChunkSchedulerBuilder builder(Policy policy, double controlHz) {
        return new ChunkSchedulerBuilder(policy, controlHz);
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        Objects.requireNonNull(observation, "observation");
        long stepNanos = System.nanoTime();
        lock.lock();
        try {
            requireOpen();
            if (fault != null) {
                throw fault;
            }
            long now = o.clock().getAsLong();
            applyArrived(now);
            Map<String, Object> action;
            if (!playback.started()) {
                action = start(observation, stepNanos);
            } else if (playback.interpolating()) {
                action = playback.nextSubStep();
            } else if (playback.hasNext()) {
                action = advance(now);
            } else {
                return hold(observation, now, stepNanos);
            }
            lastHandedOut = action;
            maybeRequest(observation, now, stepNanos);
            return action;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops the plan and any reply still to come (it will count as late), clears a fault, then
     * resets the wrapped policy on the worker thread after a call under way returns, and waits
     * for that. Counters and the delay estimates are kept.
     */
    @Override
    public void reset(Map<String, Object> payload) {
        Future<?> policyReset;
        lock.lock();
        try {
            requireOpen();
            generation++;
            playback.reset();
            lastHandedOut = null;
            outstanding = null;
            arrived = null;
            state = State.STARTING;
            fault = null;
            holdStart = -1;
            outage.clear();
            replied.signalAll();
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
     * What the robot is doing now.
     *
     * @return starting, running, holding or faulted
     */
    public State state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The number of the chunk the last action came from (1 for the first chunk of the
     * scheduler's life): it changes exactly at switches, so a subscriber can find the seams.
     *
     * @return the chunk's sequence number; 0 before any action
     */
    public long chunkSequence() {
        lock.lock();
        try {
            return playback.plan() == null ? 0 : playback.plan().sequence();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Calls that blocked for a first chunk.
     *
     * @return the count (one per episode when all goes well)
     */
    public long waits() {
        lock.lock();
        try {
            return counts.waits;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Counters and chunk-quality figures so far.
     *
     * @return a snapshot
     */
    public ChunkSchedulerStats stats() {
        lock.lock();
        try {
            return counts.snapshot(playback.actionsTotal(), timing.refillAt(playback.plan()), playback.motion().figures());
        } finally {
            lock.unlock();
        }
    }

    /** For tests: a request is out and its reply has not arrived yet. */
    boolean awaitingReply() {
        lock.lock();
        try {
            return outstanding != null && arrived == null;
        } finally {
            lock.unlock();
        }
    }

    // ---- under the lock ----

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("The chunk scheduler is closed");
        }
    }

    /** The episode's first action: wait for a first chunk, retrying failed requests, up to the start timeout. */
    private Map<String, Object> start(Map<String, Object> observation, long stepNanos) {
        counts.waits++;
        long waitGeneration = generation;
        long deadline = System.nanoTime() + o.startTimeoutNanos();
        while (true) {
            if (playback.hasNext()) {
                return advance(o.clock().getAsLong());
            }
            if (outstanding == null) {
                send(observation, playback.cursor(), null, 0, stepNanos, false);
            }
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                throw fault(o.clock().getAsLong(), "no first chunk within " + o.startTimeoutNanos() / 1_000_000 + " ms");
            }
            try {
                replied.awaitNanos(remaining);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ActionUnavailableException("Interrupted while waiting for the first action chunk");
            }
            if (closed || waitGeneration != generation) {
                throw new ActionUnavailableException("The chunk scheduler was " + (closed ? "closed" : "reset")
                        + " while waiting for the first action chunk");
            }
            boolean failed = arrived != null && arrived.failure() != null;
            applyArrived(o.clock().getAsLong());
            if (failed) {
                pause(Math.min(o.periodNanos(), Math.max(0, deadline - System.nanoTime())));
            }
        }
    }

    /** Sleeps (releasing the lock) between retries of a failed first request. */
    private void pause(long nanos) {
        long remaining = nanos;
        long waitGeneration = generation;
        try {
            while (remaining > 0 && !closed && waitGeneration == generation) {
                remaining = replied.awaitNanos(remaining);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ActionUnavailableException("Interrupted while waiting for the first action chunk");
        }
    }

    /** Takes the plan's next action, ending a hold. */
    private Map<String, Object> advance(long now) {
        Map<String, Object> action = playback.advance();
        if (holdStart >= 0) {
            log.info("Resumed after holding the last action for {} ms", (now - holdStart) / 1_000_000);
            holdStart = -1;
        }
        state = State.RUNNING;
        return action;
    }

    private Map<String, Object> hold(Map<String, Object> observation, long now, long stepNanos) {
        if (holdStart < 0) {
            holdStart = now;
            counts.holdEpisodes++;
            state = State.HOLDING;
            log.warn("The action plan ran out at action {}: holding the last action for up to {} ms ({})",
                    playback.cursor(), o.graceNanos() / 1_000_000, outstanding != null ? "a request is out"
                            : outage.last() != null ? "the last request failed: " + outage.last().getMessage()
                                    : "no request out");
        }
        if (now - holdStart > o.graceNanos()) {
            throw fault(now, null);
        }
        counts.holds++;
        maybeRequest(observation, now, stepNanos);
        return lastHandedOut;
    }

    private void maybeRequest(Map<String, Object> observation, long now, long stepNanos) {
        if (outstanding != null) {
            return;
        }
        if (playback.left() > timing.refillAt(playback.plan())) {
            return;
        }
        boolean running = state == State.RUNNING;
        // Running: this tick executes action cursor-1, so that is the reply's row 0. Holding:
        // nothing executes, and the next action the robot takes will be the reply's row 0.
        long c0 = running ? playback.cursor() - 1 : playback.cursor();
        // Built here, where the plan is; the worker decides whether the policy takes it, so the
        // policy (a client that may be connecting) is only ever asked on the worker.
        Continuation continuation = timing.continuation(playback, c0, stepNanos, generation);
        send(observation, c0, continuation, continuation == null ? 0 : continuation.delay(), stepNanos, running);
    }

    private void send(Map<String, Object> observation, long c0, Continuation continuation, int delay, long stepNanos,
            boolean running) {
        ChunkWorker.Request r = new ChunkWorker.Request(++requestIds, generation, c0, delay, o.clock().getAsLong(),
                stepNanos, running);
        outstanding = r;
        counts.chunksRequested++;
        worker.fetch(r, observation, continuation, this::arrive);
    }

    /** A request's outcome, on the worker thread: kept for the next tick unless it is late. */
    private void arrive(ChunkWorker.Reply reply, long dispatchAgeNanos) {
        ChunkWorker.Request r = reply.request();
        lock.lock();
        try {
            if (r.generation() != generation || outstanding == null || outstanding.id() != r.id()) {
                counts.lateReplies++;
                return;
            }
            counts.dispatched(dispatchAgeNanos);
            arrived = reply;
            replied.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Switches to an arrived chunk, or takes note of a failed request (retried at the next tick). */
    private void applyArrived(long now) {
        ChunkWorker.Reply a = arrived;
        if (a == null) {
            return;
        }
        arrived = null;
        outstanding = null;
        if (a.failure() != null) {
            counts.failedRequests++;
            outage.failed(a.failure(), now, playback.left());
            return;
        }
        outage.answered(now);
        // A request that waited out a reconnection measured the outage, not the policy: kept out
        // of the estimates, or every robot would ask back to back after a server's restart.
        if (!a.acrossOutage()) {
            timing.turnaround(a.turnaroundNanos());
        }
        long measured = playback.cursor() - a.request().c0();
        long margin = playback.started() && playback.plan() != null ? playback.left() : -1;
        if (!playback.switchTo(a.plan(), a.request().c0())) {
            counts.unusableReplies++;
            return;
        }
        if (a.request().running()) {
            if (!a.acrossOutage()) {
                timing.delayMeasured(measured);
            }
            counts.delay(measured, a.request().delay());
        }
        counts.switched(margin);
    }

    private ChunkStarvationException fault(long now, String startFailure) {
        Duration held = Duration.ofNanos(holdStart < 0 ? 0 : now - holdStart);
        if (outstanding != null) {
            outage.noteClientOutage(policy, now);
        }
        Throwable last = outage.last();
        StarvationCause cause = last != null ? StarvationCause.of(last) : StarvationCause.POLICY_TOO_SLOW;
        ChunkPlan plan = playback.plan();
        long planActions = plan == null ? 0 : plan.end() - plan.start();
        String slow = outstanding == null ? "no request was answered"
                : "the policy is slower than the horizon allows: the request sent at action " + outstanding.c0()
                        + " has been out for " + (now - outstanding.sentAt()) / 1_000_000 + " ms, while a plan of "
                        + planActions + " actions lasts " + planActions * o.periodNanos() / 1_000_000 + " ms";
        String why = outage.describe(cause, now, slow);
        String message = startFailure != null ? "The chunk scheduler faulted: " + startFailure + "; " + why
                : "The chunk scheduler faulted after holding the last action for " + held.toMillis() + " ms (grace "
                        + o.graceNanos() / 1_000_000 + " ms) at action " + playback.cursor() + ": " + why;
        counts.faults++;
        state = State.FAULTED;
        fault = new ChunkStarvationException(message, cause, last == null ? null : outage.since(), held, last);
        log.error("{}", message);
        return fault;
    }
}

package org.webpolicy.transport.server;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.webpolicy.policy.BatchPolicy;
import org.webpolicy.policy.Continuation;
import org.webpolicy.transport.protocol.FailureKind;
import org.webpolicy.transport.protocol.RequestFailure;
import org.webpolicy.transport.metrics.ServerMetrics;

/**
 * Gathers observations from different connections into batches for a {@link BatchPolicy}. Each
 * worker's request queues its observation under its {@link BatchKey} and waits; one gatherer
 * thread decides when a batch is sealed and hands it to the worker of its oldest observation,
 * which calls the policy and gives every other member its own action. The gatherer never waits
 * on one key: every key's observations wait side by side, so one client's odd shapes cannot hold
 * up the rest.
 *
 * <h2>When a batch is sealed</h2>
 * A key's batch is sealed when {@code maxBatch} of its observations wait, or when its oldest has
 * waited {@code maxWait} <em>while it could have run</em>: an observation that arrives while a
 * batch it must wait behind is running (any batch for a serialized policy, one of its own key for
 * a thread-safe one) starts its wait when that batch ends. The robots of the batch that just ran
 * get their replies and come back within that window, so the batches fill instead of locking
 * into a split (3 + 1) when the policy takes longer than {@code maxWait}. Wait is still bounded:
 * the rest of the call under way, then {@code maxWait}, then the batches sealed ahead of it.
 * Among keys ready to run, the one whose oldest observation is oldest goes first; since a
 * connection's requests run one at a time, that serves connections in turn whatever their shapes.
 * A serialized policy runs one batch at a time; a thread-safe one runs the batches of different
 * keys (and full batches of one key) at once, each on its own leader's worker.
 *
 * <h2>Failures stay with their observation</h2>
 * When {@code stepBatch} throws (or returns the wrong number of actions), the batch is split in
 * halves and each half is called again, down to single observations: only the observation that
 * fails alone gets a failure, with its own reason; the others get their actions (one bad
 * observation in a batch of {@code n} costs about {@code 2 log2 n} more calls). A deadline or
 * shutdown failure is not split: the call was too slow or stopped, not refused, and retrying
 * would spend the deadline again for each part, so every member gets that reason, which names
 * no other client's data.
 *
 * <p>Bounded by construction: an observation waits here only while a worker waits for it, so at
 * most {@code maxConcurrentRequests} are held, and the server requires that to be at least
 * {@code maxBatch} (else a batch could never fill).
 */
public final class ObservationBatcher {

    /** A sealed batch, run by the worker of its first member. Mutable fields under the lock. */
    private static final class Batch {
        final BatchKey key;
        final List<Waiting> members;
        boolean finished;
        long finishedAt;

        Batch(BatchKey key, List<Waiting> members) {
            this.key = key;
            this.members = members;
        }
    }

    /** One observation waiting for its action. */
    private static final class Waiting {
        final Map<String, Object> observation;
        /** The robot's chunk under way (real-time chunking), or null. */
        final Continuation continuation;
        final BatchKey key;
        final long since = System.nanoTime();
        /** The running batch this one arrived behind: its wait starts when that ends. Null when none. */
        final Batch behind;
        /** Completed with the action, with a {@link Batch} this worker is to run, or with a failure. */
        final CompletableFuture<Object> outcome = new CompletableFuture<>();

        Waiting(Map<String, Object> observation, Continuation continuation, BatchKey key, Batch behind) {
            this.observation = observation;
            this.continuation = continuation;
            this.key = key;
            this.behind = behind;
        }
    }

    private static final String SHUTTING_DOWN = "The server is shutting down; request not run.";

    private final BatchPolicy policy;
    private final PolicyCalls calls;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final boolean concurrent;
    private final ServerMetrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Waiting observations by key, each queue oldest first. */
    private final Map<BatchKey, ArrayDeque<Waiting>> waiting = new LinkedHashMap<>();
    /** Batches sealed and not yet finished, oldest first. */
    private final List<Batch> running = new ArrayList<>();
    private final Thread gatherer;
    private boolean stopped;

    ObservationBatcher(BatchPolicy policy, PolicyCalls calls, int maxBatch, Duration maxWait, ServerMetrics metrics) {
        this.policy = policy;
        this.calls = calls;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = maxWait.toNanos();
        this.concurrent = policy.isThreadSafe();
        this.metrics = metrics;
        this.gatherer = ServerThreads.daemon("webpolicy-batcher-").newThread(this::gather);
        gatherer.start();
    }

    /**
     * The action for {@code observation}, computed in a batch with others; its continuation (or
     * null) goes to the policy beside it.
     *
     * @throws RequestFailure when the server stops first or the call fails for a reason of ours
     */
    Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        BatchKey key = BatchKey.of(observation);
        Waiting mine;
        lock.lock();
        try {
            if (stopped) {
                throw new RequestFailure(FailureKind.SHUTDOWN, SHUTTING_DOWN);
            }
            mine = new Waiting(observation, continuation, key, runningAhead(key));
            waiting.computeIfAbsent(key, k -> new ArrayDeque<>()).addLast(mine);
            // A batch this arrival makes ready is sealed here, without waking the gatherer for it.
            sealReady();
            changed.signal();
        } finally {
            lock.unlock();
        }
        Object outcome = await(mine);
        if (outcome instanceof Batch batch) {
            return lead(batch);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> action = (Map<String, Object>) outcome;
        return action;
    }

    /** The batch a new observation of {@code key} must wait behind, if one runs. Under the lock. */
    private Batch runningAhead(BatchKey key) {
        for (int i = running.size() - 1; i >= 0; i--) {
            Batch b = running.get(i);
            if (!concurrent || b.key.equals(key)) {
                return b;
            }
        }
        return null;
    }

    private Object await(Waiting mine) {
        try {
            return mine.outcome.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abandon(mine);
            throw new RequestFailure(FailureKind.SHUTDOWN, "Interrupted while waiting for the batch");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    /**
     * The worker of {@code mine} stops waiting: it leaves the queue, or, when it was already made
     * a batch's leader, fails that batch so that no other member waits for a call nobody makes.
     */
    private void abandon(Waiting mine) {
        Batch led = null;
        lock.lock();
        try {
            ArrayDeque<Waiting> queue = waiting.get(mine.key);
            if (queue != null && queue.remove(mine)) {
                if (queue.isEmpty()) {
                    waiting.remove(mine.key);
                }
                return;
            }
            // Sealed already (under this lock), so a leader's outcome is set by now.
            Object outcome = mine.outcome.getNow(null);
            if (outcome instanceof Batch batch) {
                led = batch;
            }
        } catch (RuntimeException e) {
            return; // completed with a failure: nothing to hand on
        } finally {
            lock.unlock();
        }
        if (led != null) {
            RequestFailure stop = new RequestFailure(FailureKind.SHUTDOWN, "Interrupted before the batch ran");
            for (Waiting w : led.members) {
                w.outcome.completeExceptionally(stop);
            }
            finish(led);
        }
    }

    private void gather() {
        lock.lock();
        try {
            while (!stopped) {
                long sleep = sealReady();
                if (sleep == Long.MAX_VALUE) {
                    changed.await();
                } else {
                    changed.awaitNanos(sleep);
                }
            }
        } catch (InterruptedException e) {
            // stopping
        } finally {
            lock.unlock();
        }
        failWaiting();
    }

    /**
     * Seals every batch that may run now, oldest first. Called by the gatherer on its timer, and
     * by the thread whose arrival or finished call made a batch ready (one wake-up less per
     * batch). Under the lock.
     *
     * @return nanoseconds until a batch may become ready by time alone, or
     *     {@link Long#MAX_VALUE} when only an arrival or a finished call can change that
     */
    private long sealReady() {
        while (!stopped && (concurrent || running.isEmpty())) {
            long now = System.nanoTime();
            long sleep = Long.MAX_VALUE;
            ArrayDeque<Waiting> pick = null;
            for (ArrayDeque<Waiting> queue : waiting.values()) {
                Waiting oldest = queue.peekFirst();
                long readyIn = readyIn(queue, oldest, now);
                if (readyIn <= 0) {
                    if (pick == null || oldest.since - pick.peekFirst().since < 0) {
                        pick = queue;
                    }
                } else {
                    sleep = Math.min(sleep, readyIn);
                }
            }
            if (pick == null) {
                return sleep;
            }
            seal(pick);
        }
        return Long.MAX_VALUE; // a serialized policy is busy: its call's end decides what is next
    }

    /**
     * Nanoseconds until {@code queue} may be sealed: 0 or less when now, {@link Long#MAX_VALUE}
     * while its oldest waits for the batch it arrived behind. Under the lock.
     */
    private long readyIn(ArrayDeque<Waiting> queue, Waiting oldest, long now) {
        if (queue.size() >= maxBatch) {
            return 0;
        }
        Batch ahead = oldest.behind;
        if (ahead != null && !ahead.finished) {
            return Long.MAX_VALUE; // woken when it finishes
        }
        long start = ahead == null ? oldest.since : Math.max(oldest.since, ahead.finishedAt);
        return start + maxWaitNanos - now;
    }

    /** Takes up to maxBatch of the queue, oldest first, and hands them to the oldest's worker. Under the lock. */
    private void seal(ArrayDeque<Waiting> queue) {
        List<Waiting> members = new ArrayList<>(Math.min(maxBatch, queue.size()));
        while (members.size() < maxBatch && !queue.isEmpty()) {
            members.add(queue.pollFirst());
        }
        Batch batch = new Batch(members.get(0).key, members);
        if (queue.isEmpty()) {
            waiting.remove(batch.key);
        }
        running.add(batch);
        members.get(0).outcome.complete(batch);
    }

    /** Runs {@code batch} on this (its first member's) worker; every member gets its outcome. */
    private Map<String, Object> lead(Batch batch) {
        List<Waiting> members = batch.members;
        Object[] results = new Object[members.size()];
        try {
            long t0 = System.nanoTime();
            for (Waiting w : members) {
                metrics.batchWaitSeconds.recordNanos(t0 - w.since);
            }
            solve(members, 0, results);
        } catch (Throwable t) {
            // Whatever went wrong around the calls (an OutOfMemoryError building a list), no
            // member may wait for an action that will never come.
            for (int i = 0; i < results.length; i++) {
                if (results[i] == null) {
                    results[i] = t;
                }
            }
        } finally {
            finish(batch);
        }
        for (int i = 1; i < members.size(); i++) {
            if (results[i] instanceof Throwable t) {
                members.get(i).outcome.completeExceptionally(t);
            } else {
                members.get(i).outcome.complete(results[i]);
            }
        }
        if (results[0] instanceof RuntimeException e) {
            throw e;
        }
        if (results[0] instanceof Error e) {
            throw e;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> own = (Map<String, Object>) results[0];
        return own;
    }

    /**
     * Fills {@code results[offset..]} for {@code part}: the actions, or, when the call fails,
     * the outcomes of its two halves called apart, down to single observations.
     */
    private void solve(List<Waiting> part, int offset, Object[] results) {
        Throwable failure;
        long t0 = System.nanoTime();
        try {
            List<Map<String, Object>> actions = callPolicy(part);
            if (actions == null || actions.size() != part.size()) {
                throw new RequestFailure(FailureKind.POLICY, "The batch policy returned "
                        + (actions == null ? "null" : actions.size() + " actions") + " for " + part.size() + " observations");
            }
            for (int i = 0; i < actions.size(); i++) {
                // A null action fails that request alone, where the protocol core checks every action.
                results[offset + i] = actions.get(i);
            }
            return;
        } catch (RequestFailure f) {
            if (f.kind == FailureKind.DEADLINE || f.kind == FailureKind.SHUTDOWN) {
                for (int i = 0; i < part.size(); i++) {
                    results[offset + i] = f;
                }
                return;
            }
            failure = f;
        } catch (RuntimeException | Error e) {
            failure = e; // OutOfMemoryError included: a smaller batch may well fit
        } finally {
            metrics.batchRan(part.size(), System.nanoTime() - t0);
        }
        if (part.size() == 1) {
            results[offset] = failure;
            return;
        }
        metrics.batchSplits.increment();
        int half = part.size() / 2;
        solve(part.subList(0, half), offset, results);
        solve(part.subList(half, part.size()), offset + half, results);
    }

    /**
     * The one place the batch policy is called, for a batch or a part of one: what a member
     * carries besides its observation is passed to the policy here.
     */
    private List<Map<String, Object>> callPolicy(List<Waiting> part) {
        List<Map<String, Object>> observations = new ArrayList<>(part.size());
        List<Continuation> continuations = new ArrayList<>(part.size());
        boolean continued = false;
        for (Waiting w : part) {
            observations.add(w.observation);
            continuations.add(w.continuation);
            continued |= w.continuation != null;
        }
        // Each robot's own continuation, in the observations' order; none sent: the plain call.
        boolean withContinuations = continued;
        return calls.call(() -> withContinuations ? policy.stepBatch(observations, continuations)
                : policy.stepBatch(observations));
    }

    /** The batch's call is over: observations that arrived behind it start their wait now. */
    private void finish(Batch batch) {
        lock.lock();
        try {
            batch.finished = true;
            batch.finishedAt = System.nanoTime();
            running.remove(batch);
            sealReady();
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    private void failWaiting() {
        RequestFailure reason = new RequestFailure(FailureKind.SHUTDOWN, SHUTTING_DOWN);
        lock.lock();
        try {
            stopped = true;
            for (ArrayDeque<Waiting> queue : waiting.values()) {
                for (Iterator<Waiting> it = queue.iterator(); it.hasNext();) {
                    it.next().outcome.completeExceptionally(reason);
                }
            }
            waiting.clear();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops gathering: observations waiting now, and any that come later, fail with a reason;
     * batches already running finish on their workers.
     */
    void stop() {
        lock.lock();
        try {
            stopped = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        gatherer.interrupt();
        try {
            gatherer.join(TimeUnit.SECONDS.toMillis(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failWaiting();
    }
}

package org.webpolicy.transport;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.webpolicy.policy.BatchPolicy;
import org.webpolicy.policy.Continuation;

/**
 * Gathers observations from different connections into batches for a {@link BatchPolicy}. Each
 * worker's request queues its observation and waits for its own action; one gatherer thread
 * takes the oldest observation and the others that share its {@link BatchKey}, up to
 * {@code maxBatch}, as soon as that many wait or the oldest has waited {@code maxWait}, calls the
 * policy once and hands each action to its own request.
 *
 * <p>Bounded by construction: an observation waits here only while a worker waits for it, so at
 * most {@code maxConcurrentRequests} are held, and the server requires that to be at least
 * {@code maxBatch} (else a batch could never fill). Dispatch is untouched: requests still run on
 * the workers in order per connection; only the policy call is shared. A policy failure fails
 * every request of its batch, each with the reason; observations that do not share keys, dtypes
 * and shapes are never put in one batch.
 */
final class ObservationBatcher {

    /** One observation waiting for its action. */
    private static final class Waiting {
        final Map<String, Object> observation;
        /** The robot's chunk under way (real-time chunking), or null. */
        final Continuation continuation;
        final BatchKey key;
        final long since = System.nanoTime();
        final CompletableFuture<Map<String, Object>> action = new CompletableFuture<>();

        Waiting(Map<String, Object> observation, Continuation continuation) {
            this.observation = observation;
            this.continuation = continuation;
            this.key = BatchKey.of(observation);
        }
    }

    private final BatchPolicy policy;
    private final PolicyCalls calls;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final ServerMetrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private final Thread gatherer;
    private boolean stopped;

    ObservationBatcher(BatchPolicy policy, PolicyCalls calls, int maxBatch, Duration maxWait, ServerMetrics metrics) {
        this.policy = policy;
        this.calls = calls;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = maxWait.toNanos();
        this.metrics = metrics;
        this.gatherer = ServerThreads.daemon("webpolicy-batcher-").newThread(this::gather);
        gatherer.start();
    }

    /**
     * The action for {@code observation}, computed in a batch with others; its continuation (or
     * null) goes to the policy beside it.
     *
     * @throws RequestFailure when the server stops first or the batch fails for a reason of ours
     */
    Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        Waiting mine = new Waiting(observation, continuation);
        lock.lock();
        try {
            if (stopped) {
                throw new RequestFailure(FailureKind.SHUTDOWN, "The server is shutting down; request not run.");
            }
            waiting.addLast(mine);
            arrived.signal();
        } finally {
            lock.unlock();
        }
        try {
            return mine.action.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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

    private void gather() {
        while (true) {
            List<Waiting> batch;
            try {
                batch = nextBatch();
            } catch (InterruptedException e) {
                break;
            }
            if (batch == null) {
                break;
            }
            try {
                run(batch);
            } catch (Throwable t) {
                // Whatever went wrong around the call (an OutOfMemoryError building the list), no
                // request may wait for an action that will never come; the gatherer carries on.
                for (Waiting w : batch) {
                    w.action.completeExceptionally(t);
                }
            }
        }
        failAll(new RequestFailure(FailureKind.SHUTDOWN, "The server is shutting down; request not run."));
    }

    /** Waits until the oldest observation's batch is full or has waited long enough, and takes it. */
    private List<Waiting> nextBatch() throws InterruptedException {
        lock.lock();
        try {
            while (waiting.isEmpty() && !stopped) {
                arrived.await();
            }
            if (stopped) {
                return null;
            }
            Waiting oldest = waiting.peekFirst();
            long remaining = oldest.since + maxWaitNanos - System.nanoTime();
            while (!stopped && remaining > 0 && sharing(oldest.key) < maxBatch) {
                remaining = arrived.awaitNanos(remaining);
            }
            if (stopped) {
                return null;
            }
            List<Waiting> batch = new ArrayList<>(Math.min(maxBatch, waiting.size()));
            for (Iterator<Waiting> it = waiting.iterator(); it.hasNext() && batch.size() < maxBatch;) {
                Waiting w = it.next();
                if (w.key.equals(oldest.key)) {
                    batch.add(w);
                    it.remove();
                }
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private int sharing(BatchKey key) {
        int n = 0;
        for (Waiting w : waiting) {
            if (w.key.equals(key)) {
                n++;
            }
        }
        return n;
    }

    /** One policy call for the batch; every request gets its own action, or the batch's failure. */
    private void run(List<Waiting> batch) {
        List<Map<String, Object>> observations = new ArrayList<>(batch.size());
        List<Continuation> continuations = new ArrayList<>(batch.size());
        boolean continued = false;
        for (Waiting w : batch) {
            observations.add(w.observation);
            continuations.add(w.continuation);
            continued |= w.continuation != null;
        }
        boolean withContinuations = continued; // each robot's own, in the observations' order
        List<Map<String, Object>> actions;
        long t0 = System.nanoTime();
        for (Waiting w : batch) {
            metrics.batchWaitSeconds.recordNanos(t0 - w.since);
        }
        try {
            actions = calls.call(() -> withContinuations ? policy.stepBatch(observations, continuations)
                    : policy.stepBatch(observations));
        } catch (RuntimeException | Error e) {
            // OutOfMemoryError included: the batch fails, the gatherer carries on.
            for (Waiting w : batch) {
                w.action.completeExceptionally(e);
            }
            return;
        } finally {
            metrics.batchRan(batch.size(), System.nanoTime() - t0);
        }
        if (actions == null || actions.size() != batch.size()) {
            RequestFailure wrong = new RequestFailure(FailureKind.POLICY, "The batch policy returned "
                    + (actions == null ? "null" : actions.size() + " actions") + " for " + batch.size() + " observations");
            for (Waiting w : batch) {
                w.action.completeExceptionally(wrong);
            }
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            // A null action fails that request alone, where the protocol core checks every action.
            batch.get(i).action.complete(actions.get(i));
        }
    }

    private void failAll(RuntimeException reason) {
        lock.lock();
        try {
            stopped = true;
            for (Waiting w : waiting) {
                w.action.completeExceptionally(reason);
            }
            waiting.clear();
        } finally {
            lock.unlock();
        }
    }

    /** Stops gathering: observations waiting now, and any that come later, fail with a reason. */
    void stop() {
        lock.lock();
        try {
            stopped = true;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        gatherer.interrupt();
        try {
            gatherer.join(TimeUnit.SECONDS.toMillis(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failAll(new RequestFailure(FailureKind.SHUTDOWN, "The server is shutting down; request not run."));
    }
}

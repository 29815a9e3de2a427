package org.webpolicy.transport.server;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.webpolicy.policy.BatchPolicy;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.protocol.FailureKind;
import org.webpolicy.transport.protocol.RequestFailure;
import org.webpolicy.transport.metrics.ServerMetrics;
import org.webpolicy.transport.ServerOptions;

/**
 * Calls into the policy: one at a time unless the policy is thread-safe, and under the policy
 * deadline when one is set. A call past its deadline is interrupted and abandoned; a policy that
 * ignores the interrupt keeps its thread, so the deadline pool is bounded: once every one of its
 * threads is held by such a call, further calls fail at once instead of adding threads.
 *
 * <p>Steps of a {@link BatchPolicy}, when the server batches, go through the
 * {@link ObservationBatcher}, which gathers them from several workers into one call; resets and
 * unbatched steps are called from the worker that runs the request.
 */
public final class PolicyCalls {

    private final Policy policy;
    private final ServerMetrics metrics;
    /** Gathers steps into batches; null when the server does not batch. */
    private final ObservationBatcher batcher;
    private final ReentrantLock policyLock;
    private final Duration deadline;
    /** Runs calls under a deadline; null when there is none (calls run on the worker). */
    private final ThreadPoolExecutor deadlineCalls;

    /**
     * Calls into {@code policy}: under a lock unless it is thread-safe, under {@code policyTimeout} when there
     * is one, in batches when it batches and {@code maxBatch} is over 1.
     *
     * @param policy the policy served
     * @param options the server's options
     * @param metrics what the server counts
     */
    public PolicyCalls(Policy policy, ServerOptions options, ServerMetrics metrics) {
        this.policy = policy;
        this.metrics = metrics;
        this.policyLock = policy.isThreadSafe() ? null : new ReentrantLock(true);
        this.deadline = options.limits().policyTimeout();
        this.deadlineCalls = deadline == null ? null : new ThreadPoolExecutor(0, options.limits().maxConcurrentRequests(), 30,
                TimeUnit.SECONDS, new SynchronousQueue<>(), ServerThreads.daemon("webpolicy-policy-"));
        this.batcher = options.batching().maxBatch() > 1 && policy instanceof BatchPolicy batchPolicy
                ? new ObservationBatcher(batchPolicy, this, options.batching().maxBatch(), options.batching().maxBatchWait(), metrics)
                : null;
    }

    /**
     * The policy's action for one observation: batched with others' when the server batches. A
     * continuation, when the request carried one, goes with it (null: the policy's plain step).
     */
    Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        if (batcher != null) {
            return batcher.step(observation, continuation);
        }
        long t0 = System.nanoTime();
        try {
            return call(() -> continuation == null ? policy.step(observation) : policy.step(observation, continuation));
        } finally {
            metrics.batchRan(1, System.nanoTime() - t0);
        }
    }

    <T> T call(Callable<T> call) {
        Callable<T> guarded = policyLock == null ? call : () -> {
            policyLock.lockInterruptibly();
            try {
                return call.call();
            } finally {
                policyLock.unlock();
            }
        };
        try {
            if (deadlineCalls == null) {
                return guarded.call();
            }
            Future<T> future;
            try {
                future = deadlineCalls.submit(guarded);
            } catch (RejectedExecutionException e) {
                throw new RequestFailure(FailureKind.DEADLINE, "The policy has " + deadlineCalls.getMaximumPoolSize()
                        + " calls still running past their deadline; request not run");
            }
            try {
                return future.get(deadline.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                future.cancel(true);
                throw new RequestFailure(FailureKind.DEADLINE, "The policy call exceeded its deadline of " + deadline.toMillis()
                        + " ms and was abandoned");
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
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RequestFailure(FailureKind.SHUTDOWN, "Interrupted while waiting for the policy");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Threads currently running (or stuck in) policy calls under a deadline. */
    int deadlineThreads() {
        return deadlineCalls == null ? 0 : deadlineCalls.getPoolSize();
    }

    /** Stops the batcher and the threads of calls under a deadline. */
    public void shutdownNow() {
        if (batcher != null) {
            batcher.stop();
        }
        if (deadlineCalls != null) {
            deadlineCalls.shutdownNow();
        }
    }
}

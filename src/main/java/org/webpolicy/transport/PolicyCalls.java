package org.webpolicy.transport;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Calls into the policy: one at a time unless the policy is thread-safe, and under the policy
 * deadline when one is set. A call past its deadline is interrupted and abandoned; a policy that
 * ignores the interrupt keeps its thread, so the deadline pool is bounded: once every one of its
 * threads is held by such a call, further calls fail at once instead of adding threads.
 */
final class PolicyCalls {

    private final ReentrantLock policyLock;
    private final Duration deadline;
    /** Runs calls under a deadline; null when there is none (calls run on the worker). */
    private final ThreadPoolExecutor deadlineCalls;

    PolicyCalls(boolean threadSafe, Duration deadline, int maxThreads) {
        this.policyLock = threadSafe ? null : new ReentrantLock(true);
        this.deadline = deadline;
        this.deadlineCalls = deadline == null ? null : new ThreadPoolExecutor(0, maxThreads, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), ServerThreads.daemon("webpolicy-policy-"));
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
                throw new RequestFailure("The policy has " + deadlineCalls.getMaximumPoolSize()
                        + " calls still running past their deadline; request not run");
            }
            try {
                return future.get(deadline.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                future.cancel(true);
                throw new RequestFailure("The policy call exceeded its deadline of " + deadline.toMillis()
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
            throw new RequestFailure("Interrupted while waiting for the policy");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Threads currently running (or stuck in) policy calls under a deadline. */
    int deadlineThreads() {
        return deadlineCalls == null ? 0 : deadlineCalls.getPoolSize();
    }

    void shutdownNow() {
        if (deadlineCalls != null) {
            deadlineCalls.shutdownNow();
        }
    }
}

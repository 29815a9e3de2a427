package org.webpolicy.broker;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.webpolicy.policy.Policy;

/**
 * A broker's one thread, a daemon, and the only thread that calls its policy, so the policy need
 * not be thread-safe: requests in the order they were queued, resets behind a call under way, and
 * the final close.
 */
final class PolicyThread {

    private static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

    private final Policy policy;
    private final ExecutorService executor;

    PolicyThread(Policy policy, String threadName) {
        this.policy = policy;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    /** Queues a call of the policy. */
    void execute(Runnable call) {
        executor.execute(call);
    }

    /** Queues the policy's reset behind a call under way; {@link #await} waits for it. */
    Future<?> reset(Map<String, Object> payload) {
        return executor.submit(() -> policy.reset(payload));
    }

    /**
     * Waits for a queued reset, rethrowing what the policy threw. Called outside the broker's
     * lock, so that a reply arriving meanwhile can still take it.
     */
    static void await(Future<?> policyReset) {
        try {
            policyReset.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("The policy's reset failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while the policy was being reset", e);
        }
    }

    /** Stops the thread (waiting up to 5 s for a call under way, then interrupting it) and closes the policy. */
    void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        policy.close();
    }
}

package org.webpolicy.broker;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyClient;

/**
 * The scheduler's one worker thread, a daemon, and the only thread that calls the policy (so the
 * policy need not be thread-safe): chunk requests, resets and the final close. The scheduler
 * hands it requests and takes their outcomes back under its own lock.
 */
final class ChunkWorker {

    private static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

    /** One request: its ids, where its row 0 lies, the delay sent with it, when it left. */
    record Request(long id, long generation, long c0, int delay, long sentAt, long stepNanos, boolean running) {
    }

    /**
     * A request's outcome: a plan or a failure, its turnaround, and whether the client had to
     * reconnect while the request was out (then the turnaround measures an outage, not the policy).
     */
    record Reply(Request request, ChunkPlan plan, Throwable failure, long turnaroundNanos, boolean acrossOutage) {
    }

    private final Policy policy;
    private final SchedulerOptions o;
    private final ExecutorService executor;

    ChunkWorker(Policy policy, SchedulerOptions options) {
        this.policy = policy;
        this.o = options;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "webpolicy-chunk-scheduler");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Asks the policy for a chunk on the worker, then gives the outcome and how long the request
     * waited for the worker (its observation's age at dispatch) to {@code done}, on the worker.
     * The continuation goes only to a policy that takes one; it is asked here, never on the
     * control thread (a client may be connecting).
     */
    void fetch(Request r, Map<String, Object> observation, Continuation continuation, BiConsumer<Reply, Long> done) {
        executor.execute(() -> {
            long dispatchAge = System.nanoTime() - r.stepNanos();
            long connectionsBefore = clientConnections();
            ChunkPlan parsed = null;
            Throwable error = null;
            try {
                Map<String, Object> reply = continuation != null && policy.acceptsContinuation()
                        ? policy.step(observation, continuation) : policy.step(observation);
                parsed = ChunkPlan.parse(reply, o.actionKey(), o.maxSteps());
            } catch (Throwable t) { // everything reaches the control thread, Errors included
                error = t;
            }
            long turnaround = o.clock().getAsLong() - r.sentAt();
            // The first connection is the cold call's, which the scheduler keeps apart anyway.
            boolean reconnected = connectionsBefore > 0 && clientConnections() != connectionsBefore;
            done.accept(new Reply(r, parsed, error, turnaround, reconnected), dispatchAge);
        });
    }

    /** The connections a client policy has made (0 for other policies). */
    private long clientConnections() {
        return policy instanceof PolicyClient client ? client.connectionStats().connections() : 0;
    }

    /** Queues the policy's reset behind a call under way; {@link #await} waits for it. */
    Future<?> reset(Map<String, Object> payload) {
        return executor.submit(() -> policy.reset(payload));
    }

    /** Waits for a queued reset, rethrowing what the policy threw. */
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

    /** Stops the worker (waiting up to 5 s for a call under way, then interrupting it) and closes the policy. */
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

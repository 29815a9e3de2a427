package org.webpolicy.broker;

import java.util.Map;
import java.util.concurrent.Future;
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
    private final PolicyThread thread;

    ChunkWorker(Policy policy, SchedulerOptions options) {
        this.policy = policy;
        this.o = options;
        this.thread = new PolicyThread(policy, "webpolicy-chunk-scheduler");
    }

    /**
     * Asks the policy for a chunk on the worker, then gives the outcome and how long the request
     * waited for the worker (its observation's age at dispatch) to {@code done}, on the worker.
     * The continuation goes only to a policy that takes one; it is asked here, never on the
     * control thread (a client may be connecting).
     */
    void fetch(Request r, Map<String, Object> observation, Continuation continuation, BiConsumer<Reply, Long> done) {
        thread.execute(() -> {
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

    /** Queues the policy's reset behind a call under way; {@link PolicyThread#await} waits for it. */
    Future<?> reset(Map<String, Object> payload) {
        return thread.reset(payload);
    }

    /** Stops the worker (waiting up to 5 s for a call under way, then interrupting it) and closes the policy. */
    void close() {
        thread.close();
    }
}

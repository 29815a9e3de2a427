package org.webpolicy.broker;

import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.ConnectionStats;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyConnectionException;

/**
 * The failed requests since the last good reply: when the first failed (on the scheduler's clock
 * and the wall clock, for the fault's "since"), how many, and the last failure. Logs at WARN once
 * when an outage begins and once when it ends. Not thread-safe (under the scheduler's lock).
 */
final class Outage {

    private static final Logger log = LoggerFactory.getLogger(ChunkScheduler.class);

    private long start = -1;
    private Instant startWall;
    private long failures;
    private Throwable last;

    void failed(Throwable failure, long now, long actionsLeft) {
        last = failure;
        failures++;
        if (start < 0) {
            start = now;
            startWall = Instant.now();
            failures = 1;
            log.warn("A chunk request failed; retrying at every tick, {} actions left in the plan: {}", actionsLeft,
                    failure.toString());
        }
    }

    /**
     * A request still out may be a client reconnecting to a server that is gone: a server that
     * closed between requests fails none (the next one waits in the client's reconnection, up to
     * its connect timeout), and without this a fault would blame a slow policy. Takes the
     * client's outage as this one's start and last failure (the client logged it at WARN).
     */
    void noteClientOutage(Policy policy, long now) {
        if (last != null || !(policy instanceof PolicyClient client)) {
            return;
        }
        ConnectionStats connection = client.connectionStats();
        Instant unreachableSince = connection.unreachableSince();
        if (unreachableSince == null) {
            return;
        }
        if (start < 0) {
            start = now - Math.max(0, Duration.between(unreachableSince, Instant.now()).toNanos());
            startWall = unreachableSince;
            failures = 0;
        }
        last = new PolicyConnectionException("The client is reconnecting to " + client.uri() + ", unreachable since "
                + unreachableSince + " (" + connection.lastFailure() + ")");
    }

    void answered(long now) {
        if (start >= 0) {
            log.warn("The policy answers again after {} ms and {} failed requests", (now - start) / 1_000_000, failures);
        }
        clear();
    }

    void clear() {
        start = -1;
        startWall = null;
        failures = 0;
        last = null;
    }

    /** The last failure of this outage, or null when the last request did not fail. */
    Throwable last() {
        return last;
    }

    Instant since() {
        return startWall;
    }

    /**
     * Why the robot starves, in words, for a fault at {@code now}.
     *
     * @param cause what {@link StarvationCause#of} made of the last failure, or POLICY_TOO_SLOW
     * @param slowDetail the words for a slow policy (the request under way)
     */
    String describe(StarvationCause cause, long now, String slowDetail) {
        return switch (cause) {
            case SERVER_UNREACHABLE -> "the policy server has been unreachable since " + startWall + " ("
                    + (now - start) / 1_000_000 + " ms, " + (failures == 0 ? "the request under way waits for the reconnection"
                    : failures + " failed requests") + "); last error: " + last.getMessage();
            case REQUEST_TIMED_OUT -> "the request timed out: " + last.getMessage();
            case SERVER_ERROR -> "the policy server reported an error: " + last.getMessage();
            case POLICY_FAILED -> "the policy failed: " + last;
            case POLICY_TOO_SLOW -> slowDetail;
        };
    }
}

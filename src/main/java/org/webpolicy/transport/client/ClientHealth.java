package org.webpolicy.transport.client;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.transport.ConnectionStats;

/**
 * The reachability of a {@link org.webpolicy.transport.PolicyClient}'s server: counts and the current outage. An outage
 * begins when a connection is lost without the client closing it, or when an attempt fails while
 * there is none; it ends with the next connection. Each outage is logged at WARN once, when it
 * begins (not once per attempt: a robot retrying ten times a second would bury its log), and at
 * INFO when it ends, with its length and the attempts it took.
 *
 * <p>Thread-safe: a connection's reader thread reports losses, the calling thread attempts.
 */
public final class ClientHealth {

    private static final Logger log = LoggerFactory.getLogger(ClientHealth.class);

    private long connections;
    private long reconnects;
    private long failedAttempts;
    private long outages;
    private Instant since;
    private long sinceNanos;
    private long attemptsThisOutage;
    private String lastFailure;

    /** A connection that worked ended without the client closing it. */
    synchronized void lost(URI server, String cause) {
        lastFailure = "connection lost: " + cause;
        if (since == null) {
            begin();
            log.warn("Lost the connection to {} ({}); reconnecting", server, ReplySlot.excerpt(cause));
        }
    }

    /** A connection attempt failed. */
    synchronized void attemptFailed(URI server, String reason, Duration longestPause) {
        failedAttempts++;
        attemptsThisOutage++;
        lastFailure = reason;
        if (since == null) {
            begin();
            log.warn("Cannot reach the server at {} ({}); retrying, at most {} ms apart, until it is back", server,
                    ReplySlot.excerpt(reason), longestPause.toMillis());
        }
    }

    /** A connection opened. */
    synchronized void connected(URI server) {
        connections++;
        if (connections > 1) {
            reconnects++;
        }
        if (since != null) {
            log.info(String.format(Locale.ROOT, "Reached %s again after %.2f s unreachable (%d failed attempt%s)", server,
                    (System.nanoTime() - sinceNanos) / 1e9, attemptsThisOutage, attemptsThisOutage == 1 ? "" : "s"));
            since = null;
        }
    }

    /** Since when the server has been unreachable, or null. */
    synchronized Instant unreachableSince() {
        return since;
    }

    synchronized ConnectionStats stats() {
        return new ConnectionStats(connections, reconnects, failedAttempts, outages, since, lastFailure);
    }

    private void begin() {
        outages++;
        since = Instant.now();
        sinceNanos = System.nanoTime();
        attemptsThisOutage = 0;
    }
}

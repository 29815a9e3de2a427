package org.webpolicy.broker;

import java.time.Duration;
import java.time.Instant;
import org.webpolicy.WebPolicyException;

/**
 * A {@link ChunkScheduler} held the robot's last action for its whole grace without a new chunk
 * and has faulted. The message names the cause in words (server unreachable since when, request
 * timed out, the server's error text, or a policy slower than the horizon allows);
 * {@link #starvationCause()} gives it as a value and {@link #getCause()} is the last failed
 * request's exception, when one failed. The scheduler stays faulted (every later step throws
 * this again) until it is reset.
 */
public final class ChunkStarvationException extends WebPolicyException {

    private static final long serialVersionUID = 1L;

    /** Why no chunk came. */
    private final StarvationCause starvationCause;
    /** When requests started failing, or null. */
    private final transient Instant outageSince;
    /** How long the last action was held. */
    private final Duration held;

    ChunkStarvationException(String message, StarvationCause starvationCause, Instant outageSince, Duration held,
            Throwable lastFailure) {
        super(message, lastFailure);
        this.starvationCause = starvationCause;
        this.outageSince = outageSince;
        this.held = held;
    }

    /**
     * Why no chunk came.
     *
     * @return the cause
     */
    public StarvationCause starvationCause() {
        return starvationCause;
    }

    /**
     * When requests started failing (wall clock), or null when none failed (a slow policy).
     *
     * @return the outage's start, or null
     */
    public Instant outageSince() {
        return outageSince;
    }

    /**
     * How long the robot held its last action before the fault.
     *
     * @return the hold's length
     */
    public Duration held() {
        return held;
    }
}

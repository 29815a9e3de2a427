package org.webpolicy.transport.server;

/**
 * Whether a server should be sent robots now, as {@code GET /readyz} answers it for load
 * balancers: {@code 503} while it starts and warms up, {@code 200} once it is warm and accepts,
 * {@code 503} again while it drains before a close or after it failed. {@code /healthz} is the
 * liveness answer and stays {@code 200} while the server warms up: a process that is warming is
 * alive, and an orchestrator must not restart it for being slow to start.
 *
 * <p>The phase moves forward only ({@link #warming()}, then {@link #warm()}); draining and
 * failure belong to the server and are passed in when asked, so there is one truth for each.
 * Thread-safe: written by the thread that starts the server, read by the threads answering.
 */
public final class Readiness {

    /** The body of a {@code 200} answer. */
    public static final String READY_TEXT = "OK\n";

    /** Where a server is in its start. */
    private enum Phase {
        /** Built, not yet bound. */
        STARTING,
        /** Bound, running its warm-up. */
        WARMING,
        /** Warm, accepting robots. */
        WARM
    }

    /**
     * One readiness answer.
     *
     * @param status the HTTP status: 200 or 503
     * @param body the text sent, ending with a newline
     */
    public record Answer(int status, String body) {
    }

    private volatile Phase phase = Phase.STARTING;

    /**
     * A readiness already warm, for a server that has no warm-up of its own to wait for.
     *
     * @return a new readiness past its warm-up
     */
    public static Readiness warmed() {
        Readiness r = new Readiness();
        r.warm();
        return r;
    }

    /** The port is bound and the warm-up runs: not ready yet. */
    public void warming() {
        if (phase == Phase.STARTING) {
            phase = Phase.WARMING;
        }
    }

    /** The warm-up is done (or there was none) and the server accepts: ready, unless draining or failed. */
    public void warm() {
        phase = Phase.WARM;
    }

    /**
     * Whether the warm-up is done.
     *
     * @return true once {@link #warm()} was called
     */
    public boolean isWarm() {
        return phase == Phase.WARM;
    }

    /**
     * The answer to {@code GET /readyz} now.
     *
     * @param draining whether the server drains before a close
     * @param failed whether the server failed and is going down
     * @return 200 with {@link #READY_TEXT}, or 503 with the reason
     */
    public Answer answer(boolean draining, boolean failed) {
        if (failed) {
            return new Answer(503, "Service Unavailable: failed\n");
        }
        if (draining) {
            return new Answer(503, "Service Unavailable: draining\n");
        }
        return switch (phase) {
            case STARTING -> new Answer(503, "Service Unavailable: starting\n");
            case WARMING -> new Answer(503, "Service Unavailable: warming up\n");
            case WARM -> new Answer(200, READY_TEXT);
        };
    }
}

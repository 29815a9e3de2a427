package org.webpolicy.transport;

import java.time.Duration;

/**
 * No reply came within the client's request timeout. The connection was closed (a late reply
 * must never be taken for the next request's) and the next call reconnects. A
 * {@link PolicyConnectionException}, so code catching that still catches this; a robot that must
 * tell a slow server from a gone one catches this type.
 */
public final class RequestTimeoutException extends PolicyConnectionException {

    private static final long serialVersionUID = 1L;

    /** The request timeout that ran out. */
    private final Duration timeout;

    /**
     * A request that got no reply within {@code timeout} (public so that a policy standing in for
     * a client, e.g. in a test, can report a timeout the same way).
     *
     * @param message what timed out, naming the server's address
     * @param timeout the request timeout that ran out
     */
    public RequestTimeoutException(String message, Duration timeout) {
        super(message);
        this.timeout = timeout;
    }

    /**
     * The request timeout that ran out ({@link PolicyClientBuilder#requestTimeout}).
     *
     * @return the timeout
     */
    public Duration timeout() {
        return timeout;
    }
}

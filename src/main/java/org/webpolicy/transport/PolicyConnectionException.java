package org.webpolicy.transport;

import org.webpolicy.WebPolicyException;

/**
 * The client could not get an answer over the connection: the server could not be reached within
 * the connect timeout, the connection closed, a reply did not come in time, or the server broke
 * the protocol (a frame nobody asked for, two frames for one request, a reply carrying another
 * request's id). The message names the address and what happened. Whether the server executed
 * the request is unknown; the client never resends it on its own, and drops the connection, so
 * the next call starts on a fresh one. A server not reached within the connect timeout is the
 * subclass {@link ServerUnreachableException}, which says since when; a reply that did not come
 * within the request timeout is the subclass {@link RequestTimeoutException}.
 */
public class PolicyConnectionException extends WebPolicyException {

    /**
     * A failure described by {@code message}.
     *
     * @param message what went wrong, naming the server's address
     */
    public PolicyConnectionException(String message) {
        super(message);
    }

    /**
     * A failure described by {@code message}, caused by {@code cause}.
     *
     * @param message what went wrong, naming the server's address
     * @param cause the underlying exception
     */
    public PolicyConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}

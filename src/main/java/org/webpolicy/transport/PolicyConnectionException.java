package org.webpolicy.transport;

/**
 * The client could not get an answer over the connection: the server could not be reached, the
 * connection closed, or a reply did not come in time. Whether the server executed the request
 * is unknown; the client never resends it on its own.
 */
public final class PolicyConnectionException extends RuntimeException {

    public PolicyConnectionException(String message) {
        super(message);
    }

    public PolicyConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}

package org.webpolicy.transport.protocol;

/**
 * A reply that does not answer the request a client sent, or not in a form it can use: another
 * request's id or continuation, no map, no action, no acknowledgement of a reset. The message is
 * the one the caller is shown.
 */
public final class ReplyMismatch extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** A short reason for the log line of a dropped connection. */
    public final String reason;
    /**
     * True when the reply may belong to another request (the connection must then be dropped, so
     * that no later request meets a reply of another); false when it is this request's own but
     * unusable, and the connection can go on.
     */
    public final boolean dropsConnection;

    ReplyMismatch(String message, String reason, boolean dropsConnection) {
        super(message, null, false, false);
        this.reason = reason;
        this.dropsConnection = dropsConnection;
    }
}

package org.webpolicy;

/**
 * The root of the library's own errors, so that one {@code catch} covers everything webpolicy
 * refuses or fails at: a value the codec cannot send
 * ({@link org.webpolicy.codec.EncodeException EncodeException})
 * or a message it cannot read ({@link org.webpolicy.codec.DecodeException DecodeException}); a reply
 * the brokers
 * cannot cut into actions, a background request of theirs that failed, or no action in time
 * ({@link org.webpolicy.broker.ActionChunkException ActionChunkException},
 * {@link org.webpolicy.broker.ActionChunkRequestException ActionChunkRequestException},
 * {@link org.webpolicy.broker.ActionUnavailableException ActionUnavailableException}); a call the
 * client could not complete
 * or the server reported as failed
 * ({@link org.webpolicy.transport.PolicyConnectionException PolicyConnectionException},
 * {@link org.webpolicy.transport.RemotePolicyException RemotePolicyException}).
 *
 * <p>Unchecked: these failures come from data and peers at run time, and a caller that can act on
 * one catches it where it can. A wrong argument to a method (a negative size, a null) stays an
 * {@link IllegalArgumentException} or {@link NullPointerException}, as in the JDK: that is a bug
 * in the calling code, not a failure of the library's work.
 *
 * <p>It lives in the base package, which depends on nothing, so that every package, from the
 * codec at the bottom to the transport at the top, can extend it without depending on another.
 */
public abstract class WebPolicyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * An error described by {@code message}.
     *
     * @param message what went wrong
     */
    protected WebPolicyException(String message) {
        super(message);
    }

    /**
     * An error described by {@code message}, caused by {@code cause}.
     *
     * @param message what went wrong
     * @param cause the lower-level failure
     */
    protected WebPolicyException(String message, Throwable cause) {
        super(message, cause);
    }
}

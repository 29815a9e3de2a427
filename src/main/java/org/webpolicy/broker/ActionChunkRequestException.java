package org.webpolicy.broker;

import org.webpolicy.WebPolicyException;

/**
 * A background request for an action chunk failed; the policy's exception (or the
 * {@link ActionChunkException} of a malformed reply) is the cause. Thrown by the call after the
 * failure, since the request ran on another thread.
 */
public final class ActionChunkRequestException extends WebPolicyException {

    /**
     * @param message which request failed
     * @param cause the policy's exception, or the {@link ActionChunkException} of its reply
     */
    public ActionChunkRequestException(String message, Throwable cause) {
        super(message, cause);
    }
}

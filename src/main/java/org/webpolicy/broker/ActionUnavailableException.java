package org.webpolicy.broker;

import org.webpolicy.WebPolicyException;

/**
 * No action could be handed out in time: the wait for an action chunk passed its timeout, or the
 * broker was reset or closed, or the waiting thread was interrupted, while it waited. The request
 * in flight (if any) carries on; a later call can still use its reply.
 */
public final class ActionUnavailableException extends WebPolicyException {

    /** @param message why no action was available */
    public ActionUnavailableException(String message) {
        super(message);
    }
}

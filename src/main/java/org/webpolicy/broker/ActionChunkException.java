package org.webpolicy.broker;

import org.webpolicy.WebPolicyException;

/**
 * A policy's reply cannot be cut into per-step actions: an array without a first dimension, a
 * chunk shorter than the action horizon, arrays that disagree on the number of steps, or no
 * array at all. The message names the offending keys as paths ({@code actions}, {@code a/b},
 * {@code list/0}).
 */
public final class ActionChunkException extends WebPolicyException {

    /** @param message what is wrong with the reply, naming the keys */
    public ActionChunkException(String message) {
        super(message);
    }
}

package org.webpolicy.codec;

import org.webpolicy.WebPolicyException;

/**
 * A value cannot be put on the wire: a type the format has no place for, an integer out of
 * msgpack's range, a map key that Python would refuse, or a string that is not valid Unicode.
 * The message names the value's path (e.g. {@code $.images.cam_high}) and the problem.
 */
public final class EncodeException extends WebPolicyException {

    /** @param message the value's path and what cannot be sent */
    public EncodeException(String message) {
        super(message);
    }
}

package org.webpolicy.check;

/** Which form of the conversation a check speaks. */
public enum Form {
    /** The envelope form when the handshake carries {@code X-Webpolicy-Protocol: envelope}, else the raw form. */
    AUTO,
    /** openpi's raw form: the observation map out, the action map back. */
    RAW,
    /** webpolicy's envelope form: {@code {"__webpolicy_op__": "step", "obs": ...}} out, {@code {"action": ...}} back. */
    ENVELOPE
}

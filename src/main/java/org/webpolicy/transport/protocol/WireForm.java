package org.webpolicy.transport.protocol;

/** The two forms a request takes on the wire (docs/PROTOCOL.md, "How the form is chosen"). */
public enum WireForm {
    /** openpi's: the observation map itself, answered with the action map itself. */
    RAW,
    /** webpolicy's: a map naming its operation under {@link Envelope#OP}, which also carries a reset. */
    ENVELOPE
}

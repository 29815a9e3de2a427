package org.webpolicy.transport.frame;

/** The close codes of RFC 6455 7.4.1 this transport sends, sees or reports. */
public final class CloseCodes {

    /** The purpose of the connection is fulfilled. */
    public static final int NORMAL = 1000;
    /** The endpoint goes away: a server stopping. */
    public static final int GOING_AWAY = 1001;
    /** The peer broke the protocol. */
    public static final int PROTOCOL_ERROR = 1002;
    /** The peer sent a kind of data this endpoint cannot accept. */
    public static final int REFUSE = 1003;
    /** Reported, never sent: the close frame held no code. */
    public static final int NO_STATUS = 1005;
    /** Reported, never sent: the connection ended without a close frame. */
    public static final int ABNORMAL = 1006;
    /** A text message or close reason that is not UTF-8. */
    public static final int NOT_UTF8 = 1007;
    /** The peer broke one of this endpoint's policies (a bound, a rate). */
    public static final int POLICY = 1008;
    /** A message over the size limit. */
    public static final int TOO_BIG = 1009;
    /** The server met a condition that kept it from answering: Python's servers close a failed request so. */
    public static final int UNEXPECTED = 1011;
    /** The server is out of a resource (memory) for now. */
    public static final int TRY_AGAIN_LATER = 1013;

    private CloseCodes() {
    }

    /**
     * Whether a peer may send {@code code} in a close frame (RFC 6455 7.4): the registered codes
     * except those only ever reported, and the ranges for libraries and applications.
     *
     * @param code the close code
     * @return true when it may be sent
     */
    public static boolean sendable(int code) {
        return code >= 1000 && code <= 1014 && code != 1004 && code != NO_STATUS && code != ABNORMAL
                || code >= 3000 && code <= 4999;
    }
}

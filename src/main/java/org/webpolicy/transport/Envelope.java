package org.webpolicy.transport;

/** The keys of the webpolicy envelope form (docs/PROTOCOL.md, "The envelope form"). */
final class Envelope {

    static final String OP = "__webpolicy_op__";
    static final String OP_STEP = "step";
    static final String OP_RESET = "reset";
    static final String OBS = "obs";
    static final String PAYLOAD = "payload";
    static final String ACTION = "action";
    static final String RESET_ACK = "__webpolicy_reset_ack__";
    static final String SERVER_TIMING = "server_timing";
    /**
     * A request number our client adds to envelope requests, and our server copies into the
     * reply, when the server's handshake carries {@link HandshakeDraft#REQUEST_ID_HEADER}: the
     * client then never takes one request's reply for another's. Python peers never see it.
     */
    static final String REQUEST_ID = "__webpolicy_id__";

    /** The close reason Python servers send with code 1011 after an error text frame. */
    static final String ERROR_REASON = "Internal server error. Traceback included in previous frame.";

    private Envelope() {
    }
}

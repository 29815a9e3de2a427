package org.webpolicy.transport.protocol;
import org.webpolicy.transport.adapter.HandshakeDraft;


/** The keys of the webpolicy envelope form (docs/PROTOCOL.md, "The envelope form"). */
public final class Envelope {

    public static final String OP = "__webpolicy_op__";
    public static final String OP_STEP = "step";
    public static final String OP_RESET = "reset";
    public static final String OBS = "obs";
    public static final String PAYLOAD = "payload";
    public static final String ACTION = "action";
    public static final String RESET_ACK = "__webpolicy_reset_ack__";
    public static final String SERVER_TIMING = "server_timing";
    /**
     * A request number our client adds to envelope requests, and our server copies into the
     * reply, when the server's handshake carries {@link HandshakeDraft#REQUEST_ID_HEADER}: the
     * client then never takes one request's reply for another's. Python peers never see it.
     */
    public static final String REQUEST_ID = "__webpolicy_id__";

    /** The close reason Python servers send with code 1011 after an error text frame. */
    public static final String ERROR_REASON = "Internal server error. Traceback included in previous frame.";

    private Envelope() {
    }
}

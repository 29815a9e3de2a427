package org.webpolicy.transport.protocol;


/** The keys of the webpolicy envelope form (docs/PROTOCOL.md, "The envelope form"). */
public final class Envelope {

    /** The key whose value names a request's operation; its presence marks the envelope form. */
    public static final String OP = "__webpolicy_op__";
    /** The operation of a step: an observation in, an action out. */
    public static final String OP_STEP = "step";
    /** The operation of a reset, answered with {@link #RESET_ACK}. */
    public static final String OP_RESET = "reset";
    /** The key of a step's observation. */
    public static final String OBS = "obs";
    /** The key of a reset's payload, handed to the policy's reset. */
    public static final String PAYLOAD = "payload";
    /** The key of a step reply's action. */
    public static final String ACTION = "action";
    /** The key that marks a reply as the answer to a reset. */
    public static final String RESET_ACK = "__webpolicy_reset_ack__";
    /**
     * The key of the timings openpi adds to a raw-form action ({@code infer_ms},
     * {@code prev_total_ms}); our server adds them too unless {@code serverTiming} is off.
     */
    public static final String SERVER_TIMING = "server_timing";
    /**
     * A request number our client adds to envelope requests, and our server copies into the
     * reply, when the server's handshake carries {@link Headers#REQUEST_ID}: the
     * client then never takes one request's reply for another's. Python peers never see it.
     */
    public static final String REQUEST_ID = "__webpolicy_id__";

    /** The close reason Python servers send with code 1011 after an error text frame. */
    public static final String ERROR_REASON = "Internal server error. Traceback included in previous frame.";

    private Envelope() {
    }
}

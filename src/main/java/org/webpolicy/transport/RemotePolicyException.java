package org.webpolicy.transport;

import org.webpolicy.WebPolicyException;

/**
 * The server reported that a request failed: its policy threw, or it could not use what it was
 * sent. {@link #serverText()} is the text the server sent (for Python servers, the traceback).
 * The server closes the connection after such an error; the client reconnects on its next call.
 */
public final class RemotePolicyException extends WebPolicyException {

    /** The text the server sent, whole. */
    private final String serverText;

    /**
     * The error a server reported in a text frame.
     *
     * @param serverText the text the server sent, whole
     */
    public RemotePolicyException(String serverText) {
        super("The policy server reported an error:\n" + serverText);
        this.serverText = serverText;
    }

    /**
     * The text the server sent.
     *
     * @return the server's error text (for Python servers, the traceback)
     */
    public String serverText() {
        return serverText;
    }
}

package org.webpolicy.transport.frame;

/**
 * Bytes that break RFC 6455 or one of the transport's bounds, found where they are parsed: the
 * connection closes with {@link #closeCode()}, the code the RFC names for what was wrong.
 */
public final class ProtocolException extends Exception {

    private static final long serialVersionUID = 1L;

    /** The close code the RFC names for what was wrong. */
    private final int closeCode;

    /**
     * A violation to close the connection for.
     *
     * @param closeCode the close code to send ({@link CloseCodes})
     * @param message what was wrong, as the peer and the log are told
     */
    public ProtocolException(int closeCode, String message) {
        super(message);
        this.closeCode = closeCode;
    }

    /**
     * The close code the connection closes with.
     *
     * @return the code
     */
    public int closeCode() {
        return closeCode;
    }
}

package org.webpolicy.transport.frame;

/** The frame types of RFC 6455 5.2, without extensions. */
public enum Opcode {
    /** The next fragment of a text or binary message. */
    CONTINUATION(0),
    /** A text message, or its first fragment. */
    TEXT(1),
    /** A binary message, or its first fragment. */
    BINARY(2),
    /** The close handshake. */
    CLOSE(8),
    /** A ping, answered with a pong carrying the same payload. */
    PING(9),
    /** The answer to a ping, or a heartbeat of its own. */
    PONG(10);

    private final int code;

    Opcode(int code) {
        this.code = code;
    }

    /**
     * The opcode's four bits as written on the wire.
     *
     * @return the code, 0 to 10
     */
    public int code() {
        return code;
    }

    /**
     * Whether frames of this type are control frames (close, ping, pong): at most 125 bytes and never fragmented.
     *
     * @return true for control frames
     */
    public boolean control() {
        return code >= 8;
    }

    /**
     * The opcode written as {@code code} on the wire.
     *
     * @param code the frame's four opcode bits
     * @return the opcode
     * @throws ProtocolException (1002) for a code RFC 6455 reserves
     */
    public static Opcode of(int code) throws ProtocolException {
        return switch (code) {
            case 0 -> CONTINUATION;
            case 1 -> TEXT;
            case 2 -> BINARY;
            case 8 -> CLOSE;
            case 9 -> PING;
            case 10 -> PONG;
            default -> throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "unknown opcode " + code);
        };
    }
}

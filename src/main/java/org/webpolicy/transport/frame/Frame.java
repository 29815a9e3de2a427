package org.webpolicy.transport.frame;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One decoded frame: its type, whether it ends its message, and its payload, unmasked. The
 * payload is a buffer of the frame's own (the decoder allocates one per frame and keeps no
 * reference), read from its position to its limit; the frame hands out duplicates, so reading it
 * never moves the frame's own positions.
 *
 * @param opcode the frame's type
 * @param fin whether it is the last frame of its message (control frames always are)
 * @param payload the payload bytes
 */
public record Frame(Opcode opcode, boolean fin, ByteBuffer payload) {

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    /**
     * A frame; {@code payload} is held, not copied.
     *
     * @param opcode the frame's type
     * @param fin whether it is the last frame of its message
     * @param payload the payload bytes, from position to limit; null for none
     */
    public Frame {
        if (opcode == null) {
            throw new IllegalArgumentException("a frame needs an opcode");
        }
        if (opcode.control() && !fin) {
            throw new IllegalArgumentException("a " + opcode + " frame cannot be fragmented (RFC 6455 5.5)");
        }
        payload = payload == null ? EMPTY : payload;
    }

    /**
     * The payload, as a duplicate: reading it leaves the frame as it was.
     *
     * @return the payload bytes, from position to limit
     */
    @Override
    public ByteBuffer payload() {
        return payload.duplicate();
    }

    /**
     * A close frame with {@code code} and {@code reason}, the reason cut to fit a control frame
     * (125 bytes) without splitting a character.
     *
     * @param code the close code; negative for a close frame without one
     * @param reason the reason, may be empty
     * @return the frame
     */
    public static Frame close(int code, String reason) {
        if (code < 0) {
            return new Frame(Opcode.CLOSE, true, null);
        }
        byte[] text = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(text.length, 123);
        while (n > 0 && n < text.length && (text[n] & 0xc0) == 0x80) {
            n--;
        }
        ByteBuffer payload = ByteBuffer.allocate(2 + n).putShort((short) code).put(text, 0, n);
        return new Frame(Opcode.CLOSE, true, payload.flip());
    }

    /**
     * A close frame's code ({@link CloseFrameCheck} checked it when it was decoded).
     *
     * @return the code, or {@link CloseCodes#NO_STATUS} when the frame holds none
     */
    public int closeCode() {
        if (opcode != Opcode.CLOSE || payload.remaining() < 2) {
            return CloseCodes.NO_STATUS;
        }
        return ((payload.get(payload.position()) & 0xff) << 8) | (payload.get(payload.position() + 1) & 0xff);
    }

    /**
     * A close frame's reason (checked to be UTF-8 when it was decoded).
     *
     * @return the reason, empty when there is none
     */
    public String closeReason() {
        if (opcode != Opcode.CLOSE || payload.remaining() <= 2) {
            return "";
        }
        ByteBuffer reason = payload.duplicate();
        reason.position(reason.position() + 2);
        return StandardCharsets.UTF_8.decode(reason).toString();
    }

    @Override
    public String toString() {
        return opcode + (fin ? "" : " (not fin)") + ", " + payload.remaining() + " bytes";
    }
}

package org.webpolicy.transport.adapter;

import org.java_websocket.enums.Opcode;
import org.java_websocket.framing.FramedataImpl1;
import org.webpolicy.transport.frame.ProtocolException;

/**
 * Not a frame: what {@link WireDraft} hands the library in place of the frames it could not
 * decode, so that the close happens in {@link WireDraft#processFrame} under our rate-limited log.
 * Thrown, the same error would make the library log an ERROR with a stack trace for every bad
 * frame a client sends, outside any rate limit.
 */
public final class ProtocolViolation extends FramedataImpl1 {

    private final ProtocolException cause;

    ProtocolViolation(ProtocolException cause) {
        super(Opcode.CONTINUOUS);
        this.cause = cause;
    }

    int closeCode() {
        return cause.closeCode();
    }

    String reason() {
        String message = cause.getMessage();
        return message == null ? "protocol error" : message;
    }

    @Override
    public void isValid() {
        // nothing to check: never sent
    }
}

package org.webpolicy.transport.frame;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.exceptions.InvalidFrameException;
import org.java_websocket.framing.CloseFrame;

/** RFC 6455 5.5.1 and 7.4: what a received close frame's payload may hold. */
public final class CloseFrameCheck {

    private CloseFrameCheck() {
    }

    /**
     * The library's own check of a close frame throws a NullPointerException on a reason that is
     * not UTF-8 and leaves the connection open: check it here first.
     */
    static void check(ByteBuffer payload) throws InvalidDataException {
        int n = payload.remaining();
        if (n == 0) {
            return;
        }
        if (n == 1) {
            throw new InvalidFrameException("close frame with a 1-byte payload");
        }
        int code = ((payload.get(payload.position()) & 0xff) << 8) | (payload.get(payload.position() + 1) & 0xff);
        boolean valid = code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006
                || code >= 3000 && code <= 4999;
        if (!valid) {
            throw new InvalidFrameException("close code " + code + " may not be sent");
        }
        ByteBuffer reason = payload.duplicate();
        reason.position(reason.position() + 2);
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(reason);
        } catch (CharacterCodingException e) {
            throw new InvalidDataException(CloseFrame.NO_UTF8, "close reason is not UTF-8");
        }
    }
}

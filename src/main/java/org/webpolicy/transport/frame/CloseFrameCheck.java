package org.webpolicy.transport.frame;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** RFC 6455 5.5.1, 5.6 and 7.4: what a received close frame's payload and a text message may hold. */
public final class CloseFrameCheck {

    private CloseFrameCheck() {
    }

    /** Checks a close frame's payload: no 1-byte payload, a code a peer may send, a UTF-8 reason. */
    static void check(ByteBuffer payload) throws ProtocolException {
        int n = payload.remaining();
        if (n == 0) {
            return;
        }
        if (n == 1) {
            throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "close frame with a 1-byte payload");
        }
        int code = ((payload.get(payload.position()) & 0xff) << 8) | (payload.get(payload.position() + 1) & 0xff);
        if (!CloseCodes.sendable(code)) {
            throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "close code " + code + " may not be sent");
        }
        ByteBuffer reason = payload.duplicate();
        reason.position(reason.position() + 2);
        if (!utf8(reason)) {
            throw new ProtocolException(CloseCodes.NOT_UTF8, "close reason is not UTF-8");
        }
    }

    /**
     * Whether {@code bytes} (position to limit, left where it is) are whole UTF-8, checked through
     * a small buffer: a large text frame is refused or accepted without a {@code String} of it.
     */
    static boolean utf8(ByteBuffer bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = bytes.duplicate();
        CharBuffer out = CharBuffer.allocate(Math.min(1024, Math.max(16, in.remaining())));
        while (true) {
            out.clear();
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                return false;
            }
            if (result.isUnderflow()) {
                out.clear();
                return !decoder.flush(out).isError();
            }
        }
    }
}

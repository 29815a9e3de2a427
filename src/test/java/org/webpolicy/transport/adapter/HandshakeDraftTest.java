package org.webpolicy.transport.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.java_websocket.exceptions.IncompleteHandshakeException;
import org.java_websocket.handshake.ClientHandshake;
import org.junit.jupiter.api.Test;

/** An unfinished request head is not parsed: only scanned for its blank line. */
class HandshakeDraftTest {

    private static HandshakeDraft draft() {
        return new HandshakeDraft(new HandshakeDraft.Gate() {
            @Override
            public byte[] apiKey() {
                return null;
            }

            @Override
            public boolean full() {
                return false;
            }

            @Override
            public boolean failed() {
                return false;
            }

            @Override
            public boolean draining() {
                return false;
            }

            @Override
            public boolean publicMetrics() {
                return false;
            }

            @Override
            public String metricsText() {
                return "";
            }
        }, 1 << 20);
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void aMalformedHeadIsNotParsedBeforeItsBlankLine() {
        // The library's parser refuses this first line at once; parsing it at every arrival is
        // what cost a decoder thread ~200 ms per read for a long head of short lines.
        HandshakeDraft draft = draft();
        assertThrows(IncompleteHandshakeException.class, () -> draft.translateHandshake(ascii("not a request line\r\na:b\r\n")));
        assertEquals(0, draft.plainStatus(), "nothing decided yet");
    }

    @Test
    void aWholeMalformedHeadIsStillAnswered400() throws Exception {
        HandshakeDraft draft = draft();
        draft.translateHandshake(ascii("not a request line\r\na:b\r\n\r\n"));
        assertEquals(400, draft.plainStatus());
    }

    @Test
    void aWholeHeadIsParsedAndOneOverTheBoundIs431() throws Exception {
        String head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        assertInstanceOf(ClientHandshake.class, draft().translateHandshake(ascii(head)));
        HandshakeDraft longOne = draft();
        longOne.translateHandshake(ascii("GET / HTTP/1.1\r\n" + "a:b\r\n".repeat(HandshakeDraft.MAX_HANDSHAKE_BYTES / 5)));
        assertEquals(431, longOne.plainStatus());
    }
}

package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.exceptions.InvalidFrameException;
import org.java_websocket.framing.BinaryFrame;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.framing.Framedata;
import org.junit.jupiter.api.Test;
import org.webpolicy.transport.protocol.ClientText;
import org.webpolicy.transport.frame.FrameCodec;
import org.webpolicy.transport.frame.InboundBudget;

/** The frame decoder's bounds: memory taken only as bytes arrive, fragments counted, RFC 6455 roles. */
class BoundsFramingTest {

    private static final int MIB = 1 << 20;

    private static ByteBuffer wire(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write(p, 0, p.length);
        }
        return ByteBuffer.wrap(out.toByteArray());
    }

    private static byte[] masked(int opcode, int length, boolean fin) {
        return WireSocket.frame(opcode, new byte[length], fin);
    }

    @Test
    void aHeaderClaiming100MiBAllocatesNothingUntilBytesArrive() throws Exception {
        FrameCodec codec = new FrameCodec(256 * MIB, FrameCodec.Masking.REQUIRED, new InboundBudget(512L * MIB));
        byte[] header = WireSocket.frameHeader(WireSocket.BINARY, 100L * MIB, true, new byte[0]);
        long before = Probes.allocatedByThisThread();
        assertEquals(List.of(), codec.decode(ByteBuffer.wrap(header)));
        long allocated = Probes.allocatedByThisThread() - before;
        // The claim alone used to cost an 8 MiB buffer; now only the header's own bookkeeping.
        assertTrue(allocated < 256 << 10, "a claim alone allocated " + allocated + " bytes");
        assertEquals(0, codec.charged());
        byte[] some = WireSocket.frameHeader(WireSocket.BINARY, 100L * MIB, true, new byte[100_000]);
        FrameCodec second = new FrameCodec(256 * MIB, FrameCodec.Masking.REQUIRED, new InboundBudget(512L * MIB));
        second.decode(ByteBuffer.wrap(some));
        long charged = second.charged();
        assertTrue(charged >= 100_000 && charged <= FrameCodec.GROWTH_FACTOR * 100_000L,
                "memory follows the bytes received: " + charged + " for 100 000");
    }

    @Test
    void theBudgetRefusesAConnectionWith1013AndIsGivenBackOnReset() throws Exception {
        InboundBudget budget = new InboundBudget(2 * MIB);
        FrameCodec first = new FrameCodec(64 * MIB, FrameCodec.Masking.REQUIRED, budget);
        FrameCodec second = new FrameCodec(64 * MIB, FrameCodec.Masking.REQUIRED, budget);
        first.decode(ByteBuffer.wrap(WireSocket.frameHeader(WireSocket.BINARY, 8L * MIB, true, new byte[200_000])));
        assertTrue(budget.used() > 0);
        InvalidDataException refused = assertThrows(InvalidDataException.class,
                () -> second.decode(ByteBuffer.wrap(WireSocket.frameHeader(WireSocket.BINARY, 8L * MIB, true, new byte[600_000]))));
        assertEquals(CloseFrame.TRY_AGAIN_LATER, refused.getCloseCode());
        second.release();
        first.release();
        assertEquals(0, budget.used(), "every byte given back");
    }

    @Test
    void aWholeFrameGivesItsBytesBack() throws Exception {
        InboundBudget budget = new InboundBudget(4 * MIB);
        FrameCodec codec = new FrameCodec(4 * MIB, FrameCodec.Masking.REQUIRED, budget);
        List<Framedata> frames = codec.decode(ByteBuffer.wrap(masked(WireSocket.BINARY, 300_000, true)));
        assertEquals(1, frames.size());
        assertEquals(300_000, frames.get(0).getPayloadData().remaining());
        assertEquals(0, budget.used());
    }

    @Test
    void fragmentsCountTowardTheMessageLimitAsTheyArrive() throws Exception {
        FrameCodec codec = new FrameCodec(MIB);
        codec.decode(ByteBuffer.wrap(masked(WireSocket.BINARY, 512 << 10, false)));
        codec.decode(ByteBuffer.wrap(masked(0, 400 << 10, false)));
        // The third fragment takes the message past 1 MiB: refused at its header, before its bytes.
        byte[] header = WireSocket.frameHeader(0, 200 << 10, false, new byte[0]);
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> codec.decode(ByteBuffer.wrap(header)));
        assertEquals(CloseFrame.TOOBIG, e.getCloseCode());
    }

    @Test
    void theNumberOfFragmentsIsBoundedEmptyOnesIncluded() throws Exception {
        FrameCodec codec = new FrameCodec(MIB);
        codec.decode(ByteBuffer.wrap(masked(WireSocket.BINARY, 0, false)));
        for (int i = 1; i < FrameCodec.MAX_FRAGMENTS; i++) {
            codec.decode(ByteBuffer.wrap(masked(0, 0, false)));
        }
        InvalidDataException e = assertThrows(InvalidDataException.class,
                () -> codec.decode(ByteBuffer.wrap(masked(0, 0, false))));
        assertEquals(CloseFrame.TOOBIG, e.getCloseCode());
    }

    @Test
    void aFragmentedMessageWithinTheLimitsIsWhole() throws Exception {
        FrameCodec codec = new FrameCodec(MIB, FrameCodec.Masking.REQUIRED, new InboundBudget(4 * MIB));
        List<Framedata> frames = codec.decode(wire(masked(WireSocket.BINARY, 1000, false), masked(0, 0, false),
                masked(0, 24, true)));
        assertEquals(3, frames.size());
        assertInstanceOf(BinaryFrame.class, frames.get(0));
        assertTrue(frames.get(2).isFin());
    }

    @Test
    void unmaskedClientFramesAndMaskedServerFramesAre1002() {
        byte[] unmasked = FrameCodec.encode(new BinaryFrame(), false).array();
        InvalidDataException client = assertThrows(InvalidFrameException.class,
                () -> new FrameCodec(MIB, FrameCodec.Masking.REQUIRED, null).decode(ByteBuffer.wrap(unmasked)));
        assertEquals(CloseFrame.PROTOCOL_ERROR, client.getCloseCode());
        byte[] maskedFrame = masked(WireSocket.BINARY, 10, true);
        InvalidDataException server = assertThrows(InvalidFrameException.class,
                () -> new FrameCodec(MIB, FrameCodec.Masking.FORBIDDEN, null).decode(ByteBuffer.wrap(maskedFrame)));
        assertEquals(CloseFrame.PROTOCOL_ERROR, server.getCloseCode());
    }

    @Test
    void aCloseReasonThatIsNotUtf8Is1007() {
        byte[] payload = {0x03, (byte) 0xe8, (byte) 0xc3, 0x28};
        InvalidDataException e = assertThrows(InvalidDataException.class,
                () -> new FrameCodec(MIB).decode(ByteBuffer.wrap(WireSocket.frame(WireSocket.CLOSE, payload, true))));
        assertEquals(CloseFrame.NO_UTF8, e.getCloseCode());
        byte[] badCode = {0x03, (byte) 0xed};
        assertEquals(CloseFrame.PROTOCOL_ERROR, assertThrows(InvalidDataException.class,
                () -> new FrameCodec(MIB).decode(ByteBuffer.wrap(WireSocket.frame(WireSocket.CLOSE, badCode, true))))
                .getCloseCode());
    }

    @Test
    void clientTextIsCutAndEscaped() {
        String quoted = ClientText.quote("a\r\n2026-01-01 [main] INFO forged" + "x".repeat(1_000_000));
        assertTrue(quoted.length() < ClientText.MAX_QUOTED_CHARS + 60, "cut: " + quoted.length());
        assertTrue(quoted.startsWith("a\\r\\n2026"), quoted);
        assertTrue(quoted.chars().noneMatch(c -> c < 0x20), "no control characters left");
        assertTrue(quoted.endsWith("more characters)"), quoted.substring(quoted.length() - 40));
    }
}

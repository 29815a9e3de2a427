package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.webpolicy.transport.protocol.ClientText;
import org.webpolicy.transport.frame.CloseCodes;
import org.webpolicy.transport.frame.Frame;
import org.webpolicy.transport.frame.FrameCodec;
import org.webpolicy.transport.frame.Opcode;
import org.webpolicy.transport.frame.ProtocolException;
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
        ProtocolException refused = assertThrows(ProtocolException.class,
                () -> second.decode(ByteBuffer.wrap(WireSocket.frameHeader(WireSocket.BINARY, 8L * MIB, true, new byte[600_000]))));
        assertEquals(CloseCodes.TRY_AGAIN_LATER, refused.closeCode());
        second.release();
        first.release();
        assertEquals(0, budget.used(), "every byte given back");
    }

    @Test
    void aWholeFrameGivesItsBytesBack() throws Exception {
        InboundBudget budget = new InboundBudget(4 * MIB);
        FrameCodec codec = new FrameCodec(4 * MIB, FrameCodec.Masking.REQUIRED, budget);
        List<Frame> frames = codec.decode(ByteBuffer.wrap(masked(WireSocket.BINARY, 300_000, true)));
        assertEquals(1, frames.size());
        assertEquals(300_000, frames.get(0).payload().remaining());
        assertEquals(0, budget.used());
    }

    @Test
    void fragmentsCountTowardTheMessageLimitAsTheyArrive() throws Exception {
        FrameCodec codec = new FrameCodec(MIB);
        codec.decode(ByteBuffer.wrap(masked(WireSocket.BINARY, 512 << 10, false)));
        codec.decode(ByteBuffer.wrap(masked(0, 400 << 10, false)));
        // The third fragment takes the message past 1 MiB: refused at its header, before its bytes.
        byte[] header = WireSocket.frameHeader(0, 200 << 10, false, new byte[0]);
        ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decode(ByteBuffer.wrap(header)));
        assertEquals(CloseCodes.TOO_BIG, e.closeCode());
    }

    @Test
    void theNumberOfFragmentsIsBoundedEmptyOnesIncluded() throws Exception {
        FrameCodec codec = new FrameCodec(MIB);
        codec.decode(ByteBuffer.wrap(masked(WireSocket.BINARY, 0, false)));
        for (int i = 1; i < FrameCodec.MAX_FRAGMENTS; i++) {
            codec.decode(ByteBuffer.wrap(masked(0, 0, false)));
        }
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> codec.decode(ByteBuffer.wrap(masked(0, 0, false))));
        assertEquals(CloseCodes.TOO_BIG, e.closeCode());
    }

    @Test
    void aFragmentedMessageWithinTheLimitsIsWhole() throws Exception {
        FrameCodec codec = new FrameCodec(MIB, FrameCodec.Masking.REQUIRED, new InboundBudget(4 * MIB));
        List<Frame> frames = codec.decode(wire(masked(WireSocket.BINARY, 1000, false), masked(0, 0, false),
                masked(0, 24, true)));
        assertEquals(3, frames.size());
        assertEquals(Opcode.BINARY, frames.get(0).opcode());
        assertTrue(frames.get(2).fin());
    }

    @Test
    void unmaskedClientFramesAndMaskedServerFramesAre1002() {
        byte[] unmasked = FrameCodec.encode(new Frame(Opcode.BINARY, true, null), false).array();
        ProtocolException client = assertThrows(ProtocolException.class,
                () -> new FrameCodec(MIB, FrameCodec.Masking.REQUIRED, null).decode(ByteBuffer.wrap(unmasked)));
        assertEquals(CloseCodes.PROTOCOL_ERROR, client.closeCode());
        byte[] maskedFrame = masked(WireSocket.BINARY, 10, true);
        ProtocolException server = assertThrows(ProtocolException.class,
                () -> new FrameCodec(MIB, FrameCodec.Masking.FORBIDDEN, null).decode(ByteBuffer.wrap(maskedFrame)));
        assertEquals(CloseCodes.PROTOCOL_ERROR, server.closeCode());
    }

    @Test
    void aCloseReasonThatIsNotUtf8Is1007() {
        byte[] payload = {0x03, (byte) 0xe8, (byte) 0xc3, 0x28};
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> new FrameCodec(MIB).decode(ByteBuffer.wrap(WireSocket.frame(WireSocket.CLOSE, payload, true))));
        assertEquals(CloseCodes.NOT_UTF8, e.closeCode());
        byte[] badCode = {0x03, (byte) 0xed};
        assertEquals(CloseCodes.PROTOCOL_ERROR, assertThrows(ProtocolException.class,
                () -> new FrameCodec(MIB).decode(ByteBuffer.wrap(WireSocket.frame(WireSocket.CLOSE, badCode, true))))
                .closeCode());
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

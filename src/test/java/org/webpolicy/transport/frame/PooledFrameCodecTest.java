package org.webpolicy.transport.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A server's decoder whose budget has a {@link MessageBufferPool}: the same messages and bounds
 * as with fresh arrays, its buffers lent by the pool and the outgrown ones given back.
 */
class PooledFrameCodecTest {

    private static byte[] maskedFrame(byte[] payload) {
        ByteBuffer wire = FrameCodec.encode(new Frame(Opcode.BINARY, true, ByteBuffer.wrap(payload)), true);
        byte[] out = new byte[wire.remaining()];
        wire.get(out);
        return out;
    }

    private static List<Frame> feed(FrameCodec codec, byte[] wire, int from, int to, int piece) throws ProtocolException {
        List<Frame> frames = new ArrayList<>();
        for (int at = from; at < to; at += piece) {
            frames.addAll(codec.decode(ByteBuffer.wrap(wire, at, Math.min(piece, to - at))));
        }
        return frames;
    }

    @Test
    void messagesArriveWholeInLentBuffersChargedAtTheirClass() throws ProtocolException {
        MessageBufferPool pool = new MessageBufferPool(64L << 20);
        InboundBudget budget = new InboundBudget(64L << 20, pool);
        FrameCodec codec = new FrameCodec(16 << 20, FrameCodec.Masking.REQUIRED, budget);
        Random random = new Random(3);
        byte[] previous = null;
        for (int step = 0; step < 6; step++) {
            byte[] payload = new byte[600_000 + step];
            random.nextBytes(payload);
            byte[] wire = maskedFrame(payload);
            List<Frame> frames = feed(codec, wire, 0, wire.length, 16_384);
            assertEquals(1, frames.size());
            ByteBuffer message = frames.get(0).payload();
            assertEquals(payload.length, message.remaining());
            assertArrayEquals(payload, toBytes(message), "step " + step);
            assertTrue(pool.isLent(message.array()), "the message's buffer is the pool's, lent to whoever answers it");
            assertEquals(MessageBufferPool.classBytes(message.capacity()), message.capacity());
            assertEquals(0, codec.charged(), "a whole message's charge leaves the decoder with it");
            assertTrue(pool.idleBytes() > 0, "the buffers it outgrew went back");
            if (previous != null) {
                assertSame(previous, message.array(), "the buffer given back after the last message is the one lent again");
            }
            previous = message.array();
            assertTrue(pool.give(message), "the answerer gives it back");
        }
    }

    @Test
    void aClaimIsNotLentBeforeItsBytesArriveAndALeftFrameGoesBack() throws ProtocolException {
        MessageBufferPool pool = new MessageBufferPool(64L << 20);
        InboundBudget budget = new InboundBudget(512L << 20, pool);
        FrameCodec codec = new FrameCodec(256 << 20, FrameCodec.Masking.REQUIRED, budget);
        byte[] wire = maskedFrame(new byte[200 << 20]);
        feed(codec, wire, 0, 14 + 1000, 1000);
        assertTrue(codec.charged() <= MessageBufferPool.classBytes(FrameCodec.MIN_PAYLOAD_CAPACITY),
                "a 200 MiB claim with 1000 bytes sent holds " + codec.charged());
        assertEquals(codec.charged(), budget.used());
        codec.release();
        assertEquals(0, budget.used());
        assertEquals(MessageBufferPool.classBytes(FrameCodec.MIN_PAYLOAD_CAPACITY), pool.idleBytes(),
                "the half-received frame's buffer is back in the pool");
    }

    @Test
    void aSpentBudgetStillRefusesWith1013() throws ProtocolException {
        MessageBufferPool pool = new MessageBufferPool(64L << 20);
        InboundBudget budget = new InboundBudget(1 << 20, pool);
        assertTrue(budget.tryReserve(1 << 20, 1 << 20));
        FrameCodec codec = new FrameCodec(16 << 20, FrameCodec.Masking.REQUIRED, budget);
        byte[] wire = maskedFrame(new byte[2 << 20]);
        ProtocolException e = assertThrows(ProtocolException.class, () -> feed(codec, wire, 0, wire.length, 65_536));
        assertEquals(CloseCodes.TRY_AGAIN_LATER, e.closeCode());
        assertFalse(budget.used() > 1 << 20, "nothing kept from the refused frame");
    }

    private static byte[] toBytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }
}

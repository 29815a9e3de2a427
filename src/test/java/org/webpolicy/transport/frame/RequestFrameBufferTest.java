package org.webpolicy.transport.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A client's request frames, built in its kept direct buffer: each carries exactly its own
 * message, masked, whatever longer frame the buffer held before; a huge one is not kept.
 */
class RequestFrameBufferTest {

    private static byte[] decoded(ByteBuffer frame) throws ProtocolException {
        List<Frame> frames = new FrameCodec(Integer.MAX_VALUE, FrameCodec.Masking.REQUIRED, null).decode(frame.duplicate());
        assertEquals(1, frames.size());
        ByteBuffer payload = frames.get(0).payload();
        byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        return bytes;
    }

    /** Read-only segments cut at uneven places, as the codec gives headers and array data. */
    private static EncodedMessage message(byte[] bytes) {
        int a = Math.min(3, bytes.length);
        int b = Math.min(a + 1001, bytes.length);
        return new EncodedMessage(List.of(ByteBuffer.wrap(bytes, 0, a).asReadOnlyBuffer(),
                ByteBuffer.wrap(bytes, a, b - a).asReadOnlyBuffer(), ByteBuffer.wrap(bytes, b, bytes.length - b).asReadOnlyBuffer()));
    }

    @Test
    void framesAreDirectReuseTheKeptBufferAndNeverLeakALongerFramesBytes() throws ProtocolException {
        Random random = new Random(5);
        RequestFrameBuffer frames = new RequestFrameBuffer();
        byte[] large = new byte[600_000];
        random.nextBytes(large);
        ByteBuffer first = frames.frame(message(large));
        assertTrue(first.isDirect());
        assertEquals(0, first.position());
        assertEquals(FrameCodec.frameBytes(message(large), true), first.remaining());
        assertArrayEquals(large, decoded(first));
        int kept = frames.keptCapacity();
        for (int n : new int[] {0, 1, 7, 125, 126, 127, 65535, 65536, 599_999, 600_000}) {
            byte[] other = Arrays.copyOf(large, n);
            for (int i = 0; i < n; i++) {
                other[i] ^= (byte) (1 + random.nextInt(255)); // differs from the kept bytes everywhere
            }
            ByteBuffer frame = frames.frame(message(other));
            assertEquals(0, frame.position());
            assertEquals(FrameCodec.frameBytes(message(other), true), frame.limit(), "no byte past the frame is sent");
            assertArrayEquals(other, decoded(frame), "message of " + n + " bytes");
            assertEquals(kept, frames.keptCapacity(), "the kept buffer is reused");
        }
    }

    @Test
    void aLongerMessageGrowsTheKeptBufferAndAHugeOneGetsABufferOfItsOwn() throws ProtocolException {
        Random random = new Random(6);
        RequestFrameBuffer frames = new RequestFrameBuffer();
        byte[] small = new byte[1000];
        random.nextBytes(small);
        ByteBuffer first = frames.frame(message(small));
        byte[] longer = new byte[5000];
        random.nextBytes(longer);
        ByteBuffer second = frames.frame(message(longer));
        assertNotSame(first, second);
        assertArrayEquals(longer, decoded(second));
        int kept = frames.keptCapacity();
        assertTrue(kept >= second.limit());

        byte[] huge = new byte[RequestFrameBuffer.KEPT_FRAME_BYTES + 1];
        random.nextBytes(huge);
        ByteBuffer own = frames.frame(message(huge));
        assertTrue(own.isDirect());
        assertArrayEquals(huge, decoded(own));
        assertEquals(kept, frames.keptCapacity(), "a huge frame's buffer is not kept");
        assertSame(second, frames.frame(message(small)), "the kept buffer serves the next frame");
        assertArrayEquals(small, decoded(frames.frame(message(small))));
    }

    @Test
    void aDirectFrameIsTheHeapFrameByteForByteUnderTheSameKey() {
        // The mask key is random per frame: compare the unmasked payload and the header, and the
        // masked payload under the key each frame carries.
        Random random = new Random(7);
        for (int n : new int[] {0, 3, 33, 126, 70_000}) {
            byte[] bytes = new byte[n];
            random.nextBytes(bytes);
            ByteBuffer heap = FrameCodec.encode(message(bytes), true, null);
            ByteBuffer direct = FrameCodec.encode(message(bytes), true, ByteBuffer.allocateDirect(n + 14));
            assertEquals(heap.remaining(), direct.remaining());
            int header = heap.remaining() - n - 4;
            for (int i = 0; i < header; i++) {
                assertEquals(heap.get(i), direct.get(i), "header byte " + i);
            }
            byte[] key = new byte[4];
            for (int i = 0; i < 4; i++) {
                key[i] = direct.get(header + i);
            }
            for (int i = 0; i < n; i++) {
                assertEquals((byte) (bytes[i] ^ key[i & 3]), direct.get(header + 4 + i), "payload byte " + i);
            }
        }
    }

    /**
     * A written frame handed over whole: its payload unmasks to the message; the next frame goes
     * into another buffer, a released one is used again, and at most MAX_LENT are out at once.
     */
    @Test
    void aHandedOverFrameUnmasksToItsMessageAndComesBackToThePool() throws ProtocolException {
        Random random = new Random(8);
        RequestFrameBuffer frames = new RequestFrameBuffer();
        byte[] first = new byte[70_000];
        random.nextBytes(first);
        ByteBuffer frame = frames.frame(message(first));
        CapturedRequest captured = frames.handOff(frame);
        assertEquals(first.length, captured.size());
        byte[] second = new byte[70_000];
        random.nextBytes(second);
        ByteBuffer next = frames.frame(message(second));
        assertNotSame(frame, next, "the handed-over buffer is not written again while it is out");
        assertArrayEquals(second, decoded(next));
        assertArrayEquals(first, bytes(captured.payload()), "unmasked, the payload is the message");
        assertArrayEquals(first, bytes(captured.payload()), "unmasked once");
        assertEquals(1, frames.lent());
        captured.release();
        captured.release();
        assertEquals(0, frames.lent(), "released once, whatever the calls");
        assertThrows(IllegalStateException.class, captured::payload);

        // `next` is the kept buffer now; hand it over too, and the released one is the next frame's.
        CapturedRequest again = frames.handOff(next);
        ByteBuffer reused = frames.frame(message(first));
        assertSame(frame, reused, "a released buffer builds a later frame");
        again.release();

        List<CapturedRequest> out = new java.util.ArrayList<>();
        for (int i = 0; i < RequestFrameBuffer.MAX_LENT + 3; i++) {
            ByteBuffer f = frames.frame(message(second));
            CapturedRequest c = frames.handOff(f);
            if (c != null) {
                out.add(c);
            }
        }
        assertEquals(RequestFrameBuffer.MAX_LENT, out.size(), "no more than MAX_LENT are out: the others are not handed over");
        for (CapturedRequest c : out) {
            assertArrayEquals(second, bytes(c.payload()));
            c.release();
        }
        assertEquals(0, frames.lent());
    }

    private static byte[] bytes(List<ByteBuffer> segments) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (ByteBuffer s : segments) {
            byte[] b = new byte[s.remaining()];
            s.duplicate().get(b);
            out.writeBytes(b);
        }
        return out.toByteArray();
    }
}

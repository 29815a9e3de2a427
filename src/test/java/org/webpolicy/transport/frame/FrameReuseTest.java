package org.webpolicy.transport.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A request frame built into a kept buffer carries exactly its own message, whatever the buffer held. */
class FrameReuseTest {

    private static byte[] decoded(ByteBuffer frame) throws ProtocolException {
        List<Frame> frames = new FrameCodec(1 << 24, FrameCodec.Masking.REQUIRED, null).decode(frame.duplicate());
        assertEquals(1, frames.size());
        ByteBuffer payload = frames.get(0).payload();
        byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        return bytes;
    }

    private static EncodedMessage message(byte[] bytes) {
        // Two read-only segments, as the codec gives a header and an array's data.
        int split = Math.min(3, bytes.length);
        return new EncodedMessage(List.of(ByteBuffer.wrap(bytes, 0, split).asReadOnlyBuffer(),
                ByteBuffer.wrap(bytes, split, bytes.length - split).asReadOnlyBuffer()));
    }

    @Test
    void aKeptBufferIsReusedWhenLargeEnoughAndNeverLeaksItsOldBytes() throws ProtocolException {
        Random random = new Random(3);
        byte[] large = new byte[200_000];
        random.nextBytes(large);
        ByteBuffer kept = FrameCodec.encode(message(large), true, null);
        assertArrayEquals(large, decoded(kept));
        for (int n : new int[] {0, 5, 125, 126, 65535, 65536, 199_000}) {
            byte[] small = Arrays.copyOf(large, n);
            for (int i = 0; i < n; i++) {
                small[i] ^= 0x5a; // differs from what the kept buffer holds at every byte
            }
            ByteBuffer frame = FrameCodec.encode(message(small), true, kept);
            assertSame(kept, frame, "a large enough buffer is reused");
            assertEquals(0, frame.position());
            assertArrayEquals(small, decoded(frame), "message of " + n + " bytes");
        }
        byte[] larger = new byte[300_000];
        random.nextBytes(larger);
        ByteBuffer bigger = FrameCodec.encode(message(larger), true, kept);
        assertNotSame(kept, bigger, "a buffer too small is left alone");
        assertArrayEquals(larger, decoded(bigger));
    }
}

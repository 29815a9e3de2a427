package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Masking gives RFC 6455's bytes whatever kind of buffer it reads from, at any offset and length. */
class FrameMaskingTest {

    /** RFC 6455 5.3, one byte at a time: byte i of the payload XOR byte i % 4 of the key. */
    private static byte[] reference(byte[] payload, int from, int n, int key, int payloadOffset) {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            out[i] = (byte) (payload[from + i] ^ (key >>> (((payloadOffset + i) & 3) * 8)));
        }
        return out;
    }

    @Test
    void heapReadOnlyAndDirectSourcesGiveTheSameMaskedBytes() {
        Random random = new Random(7);
        byte[] payload = new byte[300];
        random.nextBytes(payload);
        for (int n : new int[] {0, 1, 3, 7, 8, 9, 31, 32, 33, 64, 100, 257}) {
            for (int from = 0; from < 5; from++) {
                for (int payloadOffset : new int[] {0, 1, 2, 3, 6}) {
                    int key = random.nextInt();
                    byte[] expected = reference(payload, from, n, key, payloadOffset);
                    ByteBuffer direct = ByteBuffer.allocateDirect(payload.length).put(payload).clear();
                    for (ByteBuffer source : new ByteBuffer[] {ByteBuffer.wrap(payload),
                            ByteBuffer.wrap(payload).asReadOnlyBuffer(), direct}) {
                        source.position(from);
                        ByteBuffer out = ByteBuffer.allocate(n + 5);
                        out.position(2);
                        FrameMasking.copy(source, out, n, key, payloadOffset);
                        assertEquals(from + n, source.position(), "source advanced by n");
                        assertEquals(2 + n, out.position(), "target advanced by n");
                        byte[] got = new byte[n];
                        System.arraycopy(out.array(), 2, got, 0, n);
                        assertArrayEquals(expected, got, "n=" + n + " from=" + from + " offset=" + payloadOffset
                                + " source=" + (source.isDirect() ? "direct" : source.isReadOnly() ? "read-only" : "heap"));
                        assertEquals(0, out.array()[0] | out.array()[1], "nothing written before the target's position");
                    }
                }
            }
        }
    }

    @Test
    void keyZeroIsAPlainCopy() {
        byte[] payload = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        ByteBuffer out = ByteBuffer.allocate(payload.length);
        FrameMasking.copy(ByteBuffer.wrap(payload).asReadOnlyBuffer(), out, payload.length, 0, 3);
        assertArrayEquals(payload, out.array());
    }
}

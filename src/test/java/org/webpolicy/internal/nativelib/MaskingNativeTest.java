package org.webpolicy.internal.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.function.Executable;

/**
 * The masking entry points: wrong offsets, lengths and buffers end in exceptions naming the call,
 * never in a crash, and nothing is written; a read-only heap buffer's array is found in place.
 * (The masked bytes themselves are checked against RFC 6455 in FrameMaskingTest.)
 */
@DisabledIfSystemProperty(named = "webpolicy.test.nativeSkipped", matches = "true", disabledReason = "Java-only build")
class MaskingNativeTest {

    private byte[] array;
    private ByteBuffer direct;

    @BeforeEach
    void buffers() {
        NativeLibrary.requireLoaded();
        array = new byte[64];
        for (int i = 0; i < array.length; i++) {
            array[i] = (byte) i;
        }
        direct = ByteBuffer.allocateDirect(64).put(array).clear();
    }

    private static void refused(String part, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void rangesPastAnArrayOrBufferAreRefused() {
        byte[] out = new byte[64];
        refused("runs past", () -> MaskingNative.mask(array, 1, out, 0, 64, 7, 0));
        refused("runs past", () -> MaskingNative.mask(array, 0, out, 1, 64, 7, 0));
        refused("runs past", () -> MaskingNative.mask(array, -1, out, 0, 1, 7, 0));
        refused("runs past", () -> MaskingNative.mask(array, Integer.MAX_VALUE, out, 0, 1, 7, 0));
        refused("runs past", () -> MaskingNative.mask(array, 0, new byte[63], 0, 64, 7, 0));
        refused("runs past", () -> MaskingNative.mask(direct.duplicate().position(1), out, 0, 64, 7, 0));
        refused("runs past", () -> MaskingNative.mask(direct.duplicate().limit(10), out, 0, 11, 7, 0));
        refused("runs past", () -> MaskingNative.mask(array, 0, direct.duplicate().position(60), 5, 7, 0));
        refused("runs past", () -> MaskingNative.mask(direct, direct.duplicate().position(1), 64, 7, 0));
        refused("negative", () -> MaskingNative.mask(array, 0, out, 0, -1, 7, 0));
        refused("negative", () -> MaskingNative.mask(array, 0, out, 0, 1, 7, -1));
        assertArrayEquals(new byte[64], out, "nothing written");
        for (int i = 0; i < 64; i++) {
            assertEquals((byte) i, direct.get(i), "nothing written");
        }
    }

    @Test
    void buffersMustBeDirectAndTargetsWritable() {
        byte[] out = new byte[64];
        refused("direct", () -> MaskingNative.mask(ByteBuffer.wrap(array), out, 0, 1, 7, 0));
        refused("direct", () -> MaskingNative.mask(array, 0, ByteBuffer.allocate(64), 1, 7, 0));
        refused("writable", () -> MaskingNative.mask(array, 0, direct.asReadOnlyBuffer(), 1, 7, 0));
        refused("writable", () -> MaskingNative.mask(direct, direct.asReadOnlyBuffer(), 1, 7, 0));
        assertThrows(NullPointerException.class, () -> MaskingNative.mask((byte[]) null, 0, out, 0, 1, 7, 0));
        assertThrows(NullPointerException.class, () -> MaskingNative.mask(direct, null, 0, 1, 7, 0));
    }

    @Test
    void aValidCallMasksFromTheBuffersPositionsWithoutMovingThem() {
        byte[] out = new byte[8];
        ByteBuffer src = direct.duplicate().position(4);
        MaskingNative.mask(src, out, 2, 4, 0x04030201, 1);
        assertEquals(4, src.position());
        // Payload offset 1: the bytes meet key bytes 2, 3, 4, 1.
        assertArrayEquals(new byte[] {0, 0, 4 ^ 2, 5 ^ 3, 6 ^ 4, 7 ^ 1, 0, 0}, out);
    }

    @Test
    void aReadOnlyHeapBuffersArrayIsFoundInPlace() {
        ByteBuffer readOnly = ByteBuffer.wrap(array, 3, 20).slice().asReadOnlyBuffer();
        assertSame(array, MaskingNative.heapArray(readOnly));
        assertEquals(3, MaskingNative.heapArrayOffset(readOnly));
        assertEquals(0, MaskingNative.heapArrayOffset(ByteBuffer.wrap(array).asReadOnlyBuffer()));
        assertNull(MaskingNative.heapArray(direct));
    }
}
